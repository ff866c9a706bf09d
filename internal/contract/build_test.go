package contract

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/rollout-gate/rollout-gate"

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	cmd, args string
	stage     int // index of the FROM it belongs to
}

func parseDockerfile(t *testing.T, s string) []instruction {
	t.Helper()
	var out []instruction
	stage := -1
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
	}
	return out
}

func TestDockerfileBuildsTheGateAsRoot(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, readFile(t, "Dockerfile"))
	last := ins[len(ins)-1].stage
	var froms []string
	var build, entrypoint, copyGate bool
	cgoOff := map[int]bool{}
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
		case "USER", "WORKDIR":
			t.Errorf("Dockerfile has %s %s: container actions must run as the default user (root) in the runner's workdir", in.cmd, in.args)
		case "ENV", "ARG":
			if strings.Contains(in.args, "CGO_ENABLED=0") {
				cgoOff[in.stage] = true
			}
		case "RUN":
			if strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/gate") {
				build = true
				if !cgoOff[in.stage] && !strings.Contains(in.args, "CGO_ENABLED=0") {
					t.Error("the gate is built without CGO_ENABLED=0: distroless/static has no libc")
				}
				if !strings.Contains(in.args, "-trimpath") || !strings.Contains(in.args, `-ldflags "-s -w`) {
					t.Errorf("go build of ./cmd/gate lacks -trimpath or -ldflags \"-s -w ...\"")
				}
				if !strings.Contains(in.args, "-X "+module+"/internal/version.version=${VERSION}") {
					t.Errorf("go build of ./cmd/gate does not stamp the release version (-X %s/internal/version.version=${VERSION})", module)
				}
			}
		case "COPY":
			if in.stage == last && strings.HasPrefix(in.args, "--from=") && strings.HasSuffix(in.args, " /gate") {
				copyGate = true
			}
		case "ENTRYPOINT":
			if in.stage == last && in.args == `["/gate"]` {
				entrypoint = true
			}
		}
	}
	if !build {
		t.Error("no RUN go build ... ./cmd/gate in the Dockerfile")
	}
	if !copyGate || !entrypoint {
		t.Error(`the final stage must COPY --from=<build> ... /gate and have ENTRYPOINT ["/gate"]`)
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage Dockerfile, got FROM %v", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static-debian12") || strings.Contains(final, "nonroot") {
		t.Errorf("final image %q: want gcr.io/distroless/static-debian12, the root variant", final)
	}
	for _, f := range froms {
		if !regexp.MustCompile(`@sha256:[0-9a-f]{64}\b`).MatchString(f) {
			t.Errorf("FROM %s is not pinned by digest", f)
		}
	}
}

// TestDockerContextHoldsTheGate checks .dockerignore against the Go files ./cmd/gate is built
// from, so a new package under another folder cannot silently break the action's image.
func TestDockerContextHoldsTheGate(t *testing.T) {
	t.Parallel()
	rules := parseDockerignore(readFile(t, ".dockerignore"))
	dir := root(t)
	for _, f := range []string{"go.mod", "go.sum"} {
		if !included(rules, f) {
			t.Errorf(".dockerignore leaves out %s", f)
		}
	}
	out := goList(t, "-deps", "-f", `{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}`, "./cmd/gate")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		rel, err := filepath.Rel(dir, fields[0])
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency, downloaded in the image
		}
		for _, f := range fields[1:] {
			p := filepath.ToSlash(filepath.Join(rel, f))
			if !included(rules, p) {
				t.Errorf(".dockerignore leaves out %s, which ./cmd/gate is built from", p)
			}
		}
	}
}

type ignoreRule struct {
	re      *regexp.Regexp
	include bool // a "!" rule
}

// parseDockerignore reads .dockerignore with Docker's rules: later lines win, "!" re-includes,
// "*" stays within one path element, "**" spans any number, and a pattern that matches a folder
// matches everything in it.
func parseDockerignore(s string) []ignoreRule {
	var rules []ignoreRule
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		p := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(line, "!")))
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("(/.*)?$")
		rules = append(rules, ignoreRule{re: regexp.MustCompile(re.String()), include: include})
	}
	return rules
}

func included(rules []ignoreRule, path string) bool {
	in := true
	for _, r := range rules {
		if r.re.MatchString(path) {
			in = r.include
		}
	}
	return in
}

func goList(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("go list %s: %s", strings.Join(args, " "), msg)
	}
	return string(out)
}

// TestImportsFlowOneWay holds the layering the house style draws: rendering, GitHub I/O, the
// exit codes, log parsing and masking know nothing of Kubernetes, the Kubernetes side (the run
// included) knows nothing of GitHub, and the kubelet's facts (podstate) import nothing of the
// module.
func TestImportsFlowOneWay(t *testing.T) {
	t.Parallel()
	github := func(p string) bool {
		return p == module+"/internal/github" || strings.HasPrefix(p, "github.com/google/go-github/") ||
			p == "github.com/sethvargo/go-githubactions"
	}
	cases := []struct {
		pkgs      []string
		forbidden func(string) bool
		what      string
	}{
		{[]string{"internal/report", "internal/github", "internal/githubtest", "internal/fault", "internal/logparse", "internal/mask"}, func(p string) bool { return strings.HasPrefix(p, "k8s.io/") }, "k8s.io packages"},
		{[]string{"internal/watch", "internal/diagnose", "internal/rollback", "internal/target", "internal/workload", "internal/workload/podstate", "internal/kube", "internal/kube/client", "internal/podtemplate", "internal/app"},
			github, "GitHub packages"},
		// The run's stages hand their data on through workload's types (the watch's
		// Observation, the kinds): none imports another stage, nor the run.
		{[]string{"internal/watch"}, within("internal/diagnose", "internal/rollback", "internal/app"), "a later stage of the run"},
		{[]string{"internal/diagnose"}, within("internal/watch", "internal/rollback", "internal/app"), "another stage of the run"},
		{[]string{"internal/rollback"}, within("internal/watch", "internal/diagnose", "internal/app"), "another stage of the run"},
		{[]string{"internal/workload", "internal/target"}, within("internal/watch", "internal/diagnose", "internal/rollback", "internal/app"), "a stage of the run"},
		// The kubelet's facts are a leaf: the watch and the diagnosis both read them, so they
		// can import neither, nor anything that does.
		{[]string{"internal/workload/podstate"}, func(p string) bool {
			return strings.HasPrefix(p, module+"/") && p != module+"/internal/workload/podstate"
		}, "the module's other packages"},
	}
	for _, c := range cases {
		for _, pkg := range c.pkgs {
			// Each dependency with its direct imports, to name the package that brings the
			// forbidden one in.
			out := goList(t, "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./"+pkg)
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				fields := strings.Fields(line)
				if len(fields) == 0 || c.forbidden(fields[0]) {
					continue
				}
				for _, imp := range fields[1:] {
					if c.forbidden(imp) {
						t.Errorf("%s must not depend on %s, but %s imports %s", pkg, c.what, fields[0], imp)
					}
				}
			}
		}
	}
}

// within matches the module's packages at these paths.
func within(paths ...string) func(string) bool {
	return func(p string) bool {
		for _, path := range paths {
			if p == module+"/"+path {
				return true
			}
		}
		return false
	}
}

// TestGitHubTestKitOnlyInTests holds internal/githubtest to tests: a fake API and a lenient
// reading of the runner's files have no place in the gate, so no package's own (non-test) files,
// e2e's build tag included, may import it.
func TestGitHubTestKitOnlyInTests(t *testing.T) {
	t.Parallel()
	kit := module + "/internal/githubtest"
	out := goList(t, "-tags", "e2e", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == kit {
				t.Errorf("%s imports %s outside its tests: the kit is for _test.go files only", fields[0], kit)
			}
		}
	}
	// The check sees imports at all: the kit's users import it in their tests.
	tests := goList(t, "-tags", "e2e", "-f", `{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}`, "./internal/github", "./e2e")
	if strings.Count(tests, kit) != 2 {
		t.Errorf("internal/github and e2e should both test with %s; go list says:\n%s", kit, tests)
	}
}

// TestGateLeavesKubectlsCommandsOut keeps the packages that made the gate's binary a third
// bigger and its start slower out of ./cmd/gate: kubectl's command helpers, cli-runtime's resource
// builder and the kustomize they bring, kubectl's describers and OpenAPI validation. The rollout
// code the gate needs from kubectl is carried in internal/kubectlcopy; its README says why. It
// keeps out client-go's packages that register every API group too (clientset, informers,
// discovery, REST mapper), and counts the API groups linked.
func TestGateLeavesKubectlsCommandsOut(t *testing.T) {
	t.Parallel()
	forbidden := []struct{ prefix, why string }{
		{"k8s.io/kubectl/pkg/cmd/", "kubectl's command helpers (use internal/kubectlcopy)"},
		{"k8s.io/kubectl/pkg/polymorphichelpers", "it imports kubectl's command helpers (use internal/kubectlcopy)"},
		{"k8s.io/kubectl/pkg/describe", "kubectl's describers"},
		{"k8s.io/kubectl/pkg/util/deployment", "it imports cli-runtime's resource builder (use internal/kubectlcopy)"},
		// kustomize itself is linked for -k (sigs.k8s.io/kustomize/api/krusty, as kubectl builds it).
		{"k8s.io/cli-runtime/", "cli-runtime brings cobra and its resource builder"},
		{"github.com/spf13/cobra", "cobra"},
		// client-go's scheme registers every built-in API group (56 of them, 11.5 MB of the binary);
		// these import it. The gate's client, informers and discovery are internal/kube/client.
		{"k8s.io/client-go/kubernetes", "client-go's clientset and scheme link every API group (use internal/kube/client)"},
		{"k8s.io/client-go/informers", "client-go's informers link every API group (use client.Informers)"},
		{"k8s.io/client-go/dynamic/dynamicinformer", "it imports client-go's informers (use a cache.ListWatch over the dynamic client)"},
		{"k8s.io/client-go/discovery", "client-go's discovery imports its scheme (use client.Discovery)"},
		{"k8s.io/client-go/restmapper", "it imports client-go's discovery (see workload's restMapper)"},
		{"k8s.io/client-go/listers", "client-go's listers come with its informers"},
		// Helm's pkg/action takes the stripped binary from 24.6 MB to 41.1 MB: it is linked only
		// with -tags helmsdk (internal/helmrollback's sdk.go), never into the shipped build.
		{"helm.sh/helm/", "Helm's library belongs behind -tags helmsdk (internal/helmrollback)"},
	}
	// Each dependency with its direct imports, to name the package that brings a forbidden one in.
	out := goList(t, "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./cmd/gate")
	deps := 0
	var apiGroups []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		deps++
		if strings.HasPrefix(fields[0], "k8s.io/api/") {
			apiGroups = append(apiGroups, strings.TrimPrefix(fields[0], "k8s.io/api/"))
		}
		for _, imp := range fields[1:] {
			for _, f := range forbidden {
				if strings.HasPrefix(imp, f.prefix) {
					t.Errorf("%s imports %s into ./cmd/gate: %s", fields[0], imp, f.why)
				}
			}
		}
	}
	if deps < 100 {
		t.Fatalf("go list -deps ./cmd/gate listed %d packages: the listing is not what this test reads", deps)
	}
	// The groups the gate reads (core, apps, batch, networking, discovery), aggregated discovery,
	// and what core/v1 imports; every further one is a package that registers groups it never reads.
	if len(apiGroups) > maxAPIGroups {
		t.Errorf("./cmd/gate links %d k8s.io/api groups, more than %d: %s", len(apiGroups), maxAPIGroups, strings.Join(apiGroups, " "))
	}
}

// maxAPIGroups is how many k8s.io/api group versions ./cmd/gate may link (it links 7).
const maxAPIGroups = 8
