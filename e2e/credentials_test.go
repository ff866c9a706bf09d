//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// TestGateExecCredentialPlugin: the gate with a kubeconfig whose user is an exec credential
// plugin, as on EKS, GKE and AKS. The plugin here is e2e/cmd/execcred, which prints an
// ExecCredential holding a ServiceAccount token: the gate gates a rollout with it. With the
// plugin missing, or failing, the gate says which plugin of which user, and what to do.
func TestGateExecCredentialPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plugin := filepath.Join(dir, "execcred")
	build := exec.Command("go", "build", "-o", plugin, "./e2e/cmd/execcred")
	build.Dir = moduleRootOf(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the plugin: %v\n%s", err, out)
	}

	cfg := framework.RESTConfig(t)
	ca := cfg.CAData
	var err error
	if len(ca) == 0 && cfg.CAFile != "" {
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig := func(ns, command string, args ...string) string {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + a + "'"
		}
		kc := "apiVersion: v1\nkind: Config\n" +
			"clusters: [{name: local, cluster: {server: '" + cfg.Host + "', certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "}}]\n" +
			"contexts: [{name: ci, context: {cluster: local, user: ci-deployer, namespace: " + ns + "}}]\ncurrent-context: ci\n" +
			"users: [{name: ci-deployer, user: {exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, command: '" + command +
			"', args: [" + strings.Join(quoted, ", ") + "]}}}]\n"
		p := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gate := func(kc string, env ...string) gateRun {
		reportPath := filepath.Join(t.TempDir(), "report.json")
		g := &gateRunning{args: []string{"--kubeconfig", kc}, reportPath: reportPath,
			p: startGate(t, "", append(append(os.Environ(), "GITHUB_ACTIONS=", "NO_COLOR=1", "KUBECONFIG="), env...),
				"--kubeconfig", kc, "--workload", "deploy/api", "--soak", "1s", "--report-json", reportPath)}
		return g.wait(t)
	}

	// Without the plugin, or with a failing one, nothing reaches the cluster.
	t.Run("plugin missing", func(t *testing.T) {
		// A PATH without aws, whatever this machine has installed.
		run := gate(kubeconfig("default", "aws", "eks", "get-token", "--cluster-name", "prod"), "PATH="+dir+"/no-such-folder")
		run.mustExit(t, 2, "a kubeconfig that cannot work here is bad input")
		for _, want := range []string{`error: the kubeconfig's user "ci-deployer" gets its credentials from the exec plugin "aws" (` + "`aws eks get-token --cluster-name prod`)",
			"not installed on this machine", "ServiceAccount token (kubeconfig-data)"} {
			if !strings.Contains(run.Stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
	})
	t.Run("plugin fails", func(t *testing.T) {
		run := gate(kubeconfig("default", plugin, "-fail", "ExpiredTokenException: the SSO session has expired; run aws sso login"))
		run.mustExit(t, 3, "credentials the gate cannot get mean it could not evaluate")
		for _, want := range []string{`credentials: the exec plugin "` + plugin + `" of the kubeconfig's user "ci-deployer"`, "exit code 1",
			"no request reached the API server", "Its stderr (secrets masked):\n  ExpiredTokenException: the SSO session has expired; run aws sso login"} {
			if !strings.Contains(run.Stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		if strings.Contains(run.Stderr, "cannot reach") {
			t.Error("a failed plugin is reported as a network problem")
		}
	})
	t.Run("plugin prints a ServiceAccount token", func(t *testing.T) {
		c, ns := framework.Client(t), framework.Namespace(t)
		ctx := context.Background()

		// A ServiceAccount allowed to read the namespace (the view role), and a token for it.
		if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployer-view"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tok, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "deployer",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create a token for the ServiceAccount: %v", err)
		}
		tokenFile := filepath.Join(dir, "token")
		if err := os.WriteFile(tokenFile, []byte(tok.Status.Token), 0o600); err != nil {
			t.Fatal(err)
		}
		framework.Apply(t, c, framework.Ready(framework.Deployment(ns, "api")))
		run := gate(kubeconfig(ns, plugin, "-token-file", tokenFile))
		run.mustEnd(t, 0, report.VerdictHealthy, "the plugin's token may read the namespace")
		if run.Report.Namespace != ns {
			t.Errorf("namespace %q, want the context's %q", run.Report.Namespace, ns)
		}
	})
}
