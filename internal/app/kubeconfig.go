package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/mask"
)

// The container action's own paths: the runner mounts the workspace, RUNNER_TEMP and the home
// folder there and nothing else of the runner (see github-actions notes, "Mounts").
var containerMounts = []string{"/github/workspace", "/github/runner_temp", "/github/home", "/github/workflow"}

// hostFlavour is the way out when the container cannot hold the credentials.
const hostFlavour = "run the gate on the runner instead, with the host flavour: `uses: rollout-gate/rollout-gate/setup@v1`, " +
	"then `gate ...` in a `run:` step (docs/credentials.md)"

// kubeconfigSource is the kubeconfig the gate was given and where it came from, so that every
// message can name the file it tried and why it tried that one.
type kubeconfigSource struct {
	paths []string // the files, in kubectl's order ($KUBECONFIG may list several)
	from  string   // "--kubeconfig", "the kubeconfig input", "$KUBECONFIG", "the default path"
	data  string   // the kubeconfig-data content, when given instead of a file
	// inCluster: no kubeconfig named, in a pod; a missing default file is then no error.
	inCluster bool
}

// credentials finds, loads and checks the kubeconfig. Its fields are the seams of the machine
// it runs on.
type credentials struct {
	getenv   func(string) string
	lookPath func(string) (string, error)
	// runPlugin runs an exec credential plugin again to read its stderr for a message.
	runPlugin   func(ctx context.Context, ec *clientcmdapi.ExecConfig) (stderr string, exitCode int, err error)
	inContainer bool // the gate runs inside the container action
}

func newCredentials(getenv func(string) string) *credentials {
	return &credentials{getenv: getenv, lookPath: exec.LookPath, runPlugin: runPlugin,
		inContainer: getenv("GITHUB_ACTIONS") == "true" && inContainer(getenv)}
}

// source says which kubeconfig kubectl would read, and why.
func (c *credentials) source(o *Options) kubeconfigSource {
	inputs := c.getenv("GITHUB_ACTIONS") == "true"
	switch {
	case o.KubeconfigData != "":
		from := "--kubeconfig-data"
		if inputs && strings.TrimSpace(c.getenv("INPUT_KUBECONFIG-DATA")) != "" {
			from = "the kubeconfig-data input"
		}
		return kubeconfigSource{from: from, data: o.KubeconfigData}
	case o.Kubeconfig != "":
		from := "--kubeconfig"
		if inputs && strings.TrimSpace(c.getenv("INPUT_KUBECONFIG")) == o.Kubeconfig {
			from = "the kubeconfig input"
		}
		return kubeconfigSource{paths: []string{o.Kubeconfig}, from: from}
	case c.getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		var paths []string
		for _, p := range filepath.SplitList(c.getenv(clientcmd.RecommendedConfigPathEnvVar)) {
			if p != "" {
				paths = append(paths, p)
			}
		}
		return kubeconfigSource{paths: paths, from: "$KUBECONFIG"}
	}
	path := clientcmd.RecommendedHomeFile
	if home := c.getenv("HOME"); home != "" {
		path = filepath.Join(home, ".kube", "config")
	}
	// Like kubectl, a pod with no kubeconfig uses its ServiceAccount (client-go's in-cluster
	// config, read by the same loader).
	inCluster := c.getenv("KUBERNETES_SERVICE_HOST") != "" && c.getenv("KUBERNETES_SERVICE_PORT") != ""
	return kubeconfigSource{paths: []string{path}, from: "the default path (~/.kube/config; no --kubeconfig and no $KUBECONFIG)", inCluster: inCluster}
}

// checkFiles fails when no file of the source can be read: it names each file and what is wrong
// with it. Like kubectl, a $KUBECONFIG list only needs one file that is there.
func (c *credentials) checkFiles(s kubeconfigSource) error {
	if s.data != "" {
		return nil
	}
	var problems []string
	var invisible []string
	for _, p := range s.paths {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			problems = append(problems, p+" is a folder, not a file")
		case err == nil && fi.Size() == 0:
			problems = append(problems, p+" is empty: the step that wrote it wrote nothing (an unset secret writes an empty file)")
		case err == nil:
			return nil
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, p+" does not exist")
			if c.inContainer && !visibleInContainer(p) {
				invisible = append(invisible, p)
			}
		default:
			problems = append(problems, fmt.Sprintf("%s cannot be read: %v", p, err))
		}
	}
	if s.inCluster && len(s.paths) == 1 && len(invisible) == 0 && strings.HasSuffix(problems[0], " does not exist") {
		return nil
	}
	msg := fmt.Sprintf("kubeconfig from %s: %s", s.from, strings.Join(problems, "; "))
	if len(invisible) > 0 {
		// Short enough for the summary's headline: the way out comes first.
		return fault.Invalidf("kubeconfig from %s: %s does not exist in the container action: it is a runner path, and the container "+
			"sees only the workspace, RUNNER_TEMP (/github/runner_temp) and /github/home. Fix: write the kubeconfig to "+
			"${{ runner.temp }}/kubeconfig and pass that path (or its content as kubeconfig-data), or run the gate on the runner "+
			"with rollout-gate/rollout-gate/setup@v1 (docs/credentials.md)", s.from, strings.Join(invisible, ", "))
	}
	switch s.from {
	case "$KUBECONFIG":
		return fault.Invalidf("%s; set KUBECONFIG to the kubeconfig file your login step wrote, or pass it with --kubeconfig", msg)
	case "--kubeconfig", "the kubeconfig input":
		return fault.Invalidf("%s; give the path of the kubeconfig file your login step wrote", msg)
	}
	return fault.Invalidf("%s; give the kubeconfig with --kubeconfig (the kubeconfig input) or $KUBECONFIG, or its content with kubeconfig-data", msg)
}

// visibleInContainer: whether a path lies on one of the container action's mounts.
func visibleInContainer(p string) bool {
	p = filepath.Clean(p)
	if !filepath.IsAbs(p) {
		return true // relative to the workspace, the working directory
	}
	for _, m := range containerMounts {
		if p == m || strings.HasPrefix(p, m+"/") {
			return true
		}
	}
	return false
}

// clientConfig is kubectl's loading of the kubeconfig, from the files or from kubeconfig-data.
func (c *credentials) clientConfig(s kubeconfigSource, o *Options) (clientcmd.ClientConfig, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	if o.Namespace != "" {
		overrides.Context.Namespace = o.Namespace
	}
	if s.data != "" {
		cfg, err := parseKubeconfigData(s.data)
		if err != nil {
			return nil, fault.Invalidf("%s: %v; give the kubeconfig file's content, as it is or base64-encoded (base64 -w0 < kubeconfig)", s.from, err)
		}
		return clientcmd.NewNonInteractiveClientConfig(*cfg, o.Context, overrides, nil), nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	} else {
		rules.Precedence = s.paths
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides), nil
}

// yamlLine keeps the line number of a parse error and drops the rest: YAML errors quote the
// value they could not read, and in kubeconfig-data that may be a token.
var yamlLine = regexp.MustCompile(`line \d+`)

// parseKubeconfigData reads a kubeconfig given as content: plain YAML or JSON, or base64 of it.
// It is never written to disk; certificate and key files it names must exist, so a
// self-contained kubeconfig (*-data fields, a token) is what fits.
func parseKubeconfigData(data string) (*clientcmdapi.Config, error) {
	raw := []byte(strings.TrimSpace(data))
	compact := strings.Join(strings.Fields(string(raw)), "")
	if dec, err := base64.StdEncoding.DecodeString(compact); err == nil && len(dec) > 0 {
		raw = dec
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		where := "it is not YAML"
		if l := yamlLine.FindString(err.Error()); l != "" {
			where = "it is not valid YAML at " + l
		}
		return nil, fmt.Errorf("not a kubeconfig (%s)", where)
	}
	if len(cfg.Clusters) == 0 || len(cfg.Contexts) == 0 {
		return nil, errors.New("not a kubeconfig (it names no cluster or no context)")
	}
	return cfg, nil
}

// KubeconfigSecrets are the values of a kubeconfig given as content that must never be printed:
// the content itself, decoded, and its tokens, passwords and keys. cmd/gate masks them in Actions.
func KubeconfigSecrets(data string) []string {
	if strings.TrimSpace(data) == "" {
		return nil
	}
	out := []string{strings.TrimSpace(data)}
	cfg, err := parseKubeconfigData(data)
	if err != nil {
		return out
	}
	for _, a := range cfg.AuthInfos {
		out = append(out, a.Token, a.Password, string(a.ClientKeyData))
		if a.Exec != nil {
			for _, e := range a.Exec.Env {
				out = append(out, e.Value)
			}
		}
	}
	var keep []string
	for _, s := range out {
		if len(s) >= 8 {
			keep = append(keep, s)
		}
	}
	return keep
}

// user is the kubeconfig's user entry of the context in use, for messages.
func user(cc clientcmd.ClientConfig, contextName string) (name string, ai *clientcmdapi.AuthInfo) {
	raw, err := cc.RawConfig()
	if err != nil {
		return "", nil
	}
	if contextName == "" {
		contextName = raw.CurrentContext
	}
	if ctx := raw.Contexts[contextName]; ctx != nil {
		return ctx.AuthInfo, raw.AuthInfos[ctx.AuthInfo]
	}
	return "", nil
}

// pluginCommand is the plugin as the kubeconfig has it: "aws eks get-token --cluster-name prod".
func pluginCommand(ec *clientcmdapi.ExecConfig) string {
	return strings.TrimSpace(ec.Command + " " + strings.Join(ec.Args, " "))
}

// checkPlugin fails when the user's exec credential plugin is not installed here: client-go
// would only find out at the first request, and call it a network error.
func (c *credentials) checkPlugin(cfg *rest.Config, userName string) error {
	ec := cfg.ExecProvider
	if ec == nil {
		return nil
	}
	if _, err := c.lookPath(ec.Command); err == nil {
		return nil
	}
	where := "is not installed on this machine (not found on PATH)"
	fix := "install it (or run the gate where your cloud CLI is set up), or give a kubeconfig with a ServiceAccount token (kubeconfig-data)"
	if c.inContainer {
		where = "does not exist inside the container action, which holds only the gate: cloud CLIs and credential plugins " +
			"(aws, gke-gcloud-auth-plugin, kubelogin) cannot run there"
		fix = hostFlavour + ", after your cloud login step; or give a kubeconfig with a ServiceAccount token (kubeconfig-data)"
	}
	return fault.Invalidf("the kubeconfig's user %q gets its credentials from the exec plugin %q (`%s`), which %s. Fix: %s",
		userName, ec.Command, pluginCommand(ec), where, fix)
}

// execFailure is how client-go reports a plugin that ran and failed ("getting credentials: exec:
// executable aws failed with exit code 255"), or returned no credential.
var execFailure = regexp.MustCompile(`getting credentials: (exec: .*|.*exec plugin.*)`)

// explainPreflight turns the first request's error into what the user must fix: the plugin that
// failed (with its stderr, masked), credentials the server rejected (401), an identity without
// permissions (403). Other errors (unreachable, TLS) go on to kube.Explain.
func (c *credentials) explainPreflight(ctx context.Context, err error, cfg *rest.Config, userName string) error {
	host := cfg.Host
	switch {
	case cfg.ExecProvider != nil && execFailure.MatchString(err.Error()):
		ec := cfg.ExecProvider
		what := execFailure.FindStringSubmatch(err.Error())[1]
		stderr := ""
		if c.runPlugin != nil {
			pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			out, _, _ := c.runPlugin(pctx, ec)
			cancel()
			stderr = maskPluginOutput(out, ec)
		}
		msg := fmt.Sprintf("credentials: the exec plugin %q of the kubeconfig's user %q (`%s`) failed, so no request reached the API server at %s (%s)",
			ec.Command, userName, pluginCommand(ec), host, firstLine(what))
		if stderr != "" {
			msg += ". Its stderr (secrets masked):\n" + indent(stderr)
		} else {
			msg += "; it wrote nothing on stderr"
		}
		fix := "\nFix: check the cloud login step before the gate (aws-actions/configure-aws-credentials, google-github-actions/auth, azure/login) and the plugin's arguments; or give a kubeconfig with a ServiceAccount token (kubeconfig-data)"
		if c.inContainer {
			fix = "\nFix: the container action does not see the runner's cloud login; " + hostFlavour + "; or give a kubeconfig with a ServiceAccount token (kubeconfig-data)"
		}
		return fault.CannotEvaluatef("%s%s", msg, fix)
	case apierrors.IsUnauthorized(err):
		return fault.CannotEvaluatef("credentials: the API server at %s rejected the credentials of the kubeconfig's user %q (401 Unauthorized): "+
			"the token or client certificate is expired, revoked or for another cluster. This is not a network problem: the server answered. "+
			"Fix: renew them (run the login step again, or create a new token: kubectl create token SERVICE_ACCOUNT -n NAMESPACE --duration 1h)", host, userName)
	case apierrors.IsForbidden(err):
		return fault.CannotEvaluatef("permissions: the API server at %s knows the kubeconfig's user %q but forbids it even to read the server version (403 Forbidden): %v. "+
			"This is not a network problem. Fix: grant the gate's identity the role in deploy/rbac.yaml", host, userName, apierrors.ReasonForError(err))
	}
	return nil
}

// runPlugin runs the plugin as client-go does (its command, args and env, and
// KUBERNETES_EXEC_INFO) and returns what it wrote on stderr.
func runPlugin(ctx context.Context, ec *clientcmdapi.ExecConfig) (string, int, error) {
	cmd := exec.CommandContext(ctx, ec.Command, ec.Args...)
	cmd.Env = os.Environ()
	for _, e := range ec.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	apiVersion := ec.APIVersion
	if apiVersion == "" {
		apiVersion = "client.authentication.k8s.io/v1"
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf(`KUBERNETES_EXEC_INFO={"apiVersion":%q,"kind":"ExecCredential","spec":{"interactive":false}}`, apiVersion))
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, nil
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return stderr.String(), code, err
}

// jwtLike and bearer catch tokens a plugin may print whatever their names.
var (
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	bearer  = regexp.MustCompile(`(?i)(bearer|token|secret|password)(["']?\s*[:=]\s*["']?|\s+)[^\s"',]{8,}`)
)

// maskPluginOutput keeps the last lines of a plugin's stderr with its env values, tokens and
// secret-looking assignments masked.
func maskPluginOutput(s string, ec *clientcmdapi.ExecConfig) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b mask.Builder
	for _, e := range ec.Env {
		if len(e.Value) >= 4 {
			b.Value("env "+e.Name, []byte(e.Value))
		}
	}
	s = b.Masker().Mask(s)
	s = jwtLike.ReplaceAllString(s, mask.Marker("token"))
	s = bearer.ReplaceAllString(s, "${1}${2}"+mask.Marker("value"))
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = append([]string{fmt.Sprintf("(%d earlier lines left out)", len(lines)-15)}, lines[len(lines)-15:]...)
	}
	s = strings.Join(lines, "\n")
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
