package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	kubeclient "github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// completeRollout is Deployment prod/name with its ReplicaSet, rolled out as kubectl would call
// finished.
func completeRollout(name string) []runtime.Object {
	d := kubetest.Deployment("prod", name, "app:v1", 1, 1, 1, 1)
	return []runtime.Object{d, kubetest.ReplicaSetFor(d, 1)}
}

// runAgainst parses args and runs the gate on a fake cluster holding objs, in namespace prod, with
// deps for the rest (an empty environment and the wall clock unless set).
func runAgainst(t *testing.T, objs []runtime.Object, deps Deps, args ...string) (*report.Report, *Result) {
	t.Helper()
	o, err := Parse(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if deps.Getenv == nil {
		deps.Getenv = func(string) string { return "" }
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	client := kubetest.Client(objs...)
	deps.Connect = func(*Options, func(string) string) (*Cluster, error) {
		return &Cluster{Client: client, Namespace: "prod"}, nil
	}
	res := Run(context.Background(), o, deps)
	return res.Report, res
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        []string
		stdin       string
		objects     []runtime.Object
		wantVerdict report.Verdict
		wantCode    int
		wantErr     string
		wantRefs    []string // workloads in the report, with their verdicts
	}{
		{
			name: "complete deployment is healthy", args: []string{"--workload", "deploy/api", "--soak", "0s"},
			objects: completeRollout("api"), wantVerdict: report.VerdictHealthy,
			wantCode: fault.ExitHealthy, wantRefs: []string{"deployment/api=healthy"},
		},
		{
			name: "manifest from stdin, other kinds skipped", args: []string{"-f", "-", "--soak", "0s"},
			stdin:   "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
			objects: completeRollout("api"), wantVerdict: report.VerdictHealthy,
			wantCode: fault.ExitHealthy, wantRefs: []string{"deployment/api=healthy", "service/api=skipped"},
		},
		{
			name: "missing workload cannot be evaluated", args: []string{"--workload", "deploy/ghost"},
			wantVerdict: report.VerdictError, wantCode: fault.ExitCannotEvaluate, wantErr: "deployment/ghost not found in namespace prod",
		},
		{
			name: "manifests without workloads are invalid", args: []string{"-f", "-"}, stdin: "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n",
			wantVerdict: report.VerdictError, wantCode: fault.ExitInvalid, wantErr: "hold none of the Deployments, StatefulSets, DaemonSets and Jobs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, res := runAgainst(t, tt.objects, Deps{Stdin: strings.NewReader(tt.stdin)}, append(tt.args, "--timeout", "10s")...)
			if res.ExitCode() != tt.wantCode {
				t.Fatalf("exit code %d (message %q), want %d", res.ExitCode(), r.Message, tt.wantCode)
			}
			if tt.wantErr != "" && !strings.Contains(r.Message, tt.wantErr) {
				t.Errorf("message %q, want it to contain %q", r.Message, tt.wantErr)
			}
			if r.Verdict != tt.wantVerdict || r.SchemaVersion != report.SchemaVersion {
				t.Fatalf("report %+v, want verdict %s", r, tt.wantVerdict)
			}
			var got []string
			for _, w := range r.Workloads {
				got = append(got, w.Ref()+"="+string(w.Verdict))
			}
			if strings.Join(got, " ") != strings.Join(tt.wantRefs, " ") {
				t.Errorf("workloads %v, want %v", got, tt.wantRefs)
			}
		})
	}
}

func TestCheckReachableFromContainer(t *testing.T) {
	t.Parallel()
	listening := httptest.NewServer(http.NotFoundHandler())
	defer listening.Close()
	inAction := map[string]string{"GITHUB_ACTIONS": "true", "ROLLOUT_GATE_IN_CONTAINER": "true"}
	tests := []struct {
		name    string
		host    string
		env     map[string]string
		wantErr string
	}{
		{"loopback that nothing answers, inside an action", "https://127.0.0.1:1", inAction, "networking.apiServerAddress"},
		{"localhost that nothing answers", "https://localhost:1", inAction, "is the container itself"},
		{"loopback that answers (host network)", listening.URL, inAction, ""},
		{"docker0 gateway", "https://172.17.0.1:6443", inAction, ""},
		{"loopback outside Actions", "https://127.0.0.1:1", map[string]string{}, ""},
	}
	for _, tt := range tests {
		err := checkReachableFromContainer(&rest.Config{Host: tt.host}, func(k string) string { return tt.env[k] })
		if tt.wantErr == "" && err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || fault.Code(err) != fault.ExitCannotEvaluate) {
			t.Errorf("%s: err %v, want exit 3 containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// Every API request of the gate has a timeout, except watches, which --timeout bounds.
func TestConnectBoundsRequests(t *testing.T) {
	t.Parallel()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	cfg := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://172.17.0.1:6443'}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: t}}]\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(&Options{Kubeconfig: kubeconfig}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	timeoutOf := func(c kubeclient.Interface) time.Duration {
		return c.CoreV1().(interface{ RESTClient() rest.Interface }).RESTClient().(*rest.RESTClient).Client.Timeout
	}
	if got := timeoutOf(c.Client); got != apiTimeout {
		t.Errorf("API client timeout %v, want %v", got, apiTimeout)
	}
	if got := timeoutOf(c.watchClient()); got != 0 {
		t.Errorf("watch client timeout %v, want none (a timeout would cut every watch)", got)
	}
}

// The report boundary masks what the diagnosis did not write: the watch's message carries a
// Secret value (a controller quoting an env var), and the report must not.
func TestRunMasksWorkloadMessage(t *testing.T) {
	t.Parallel()
	d := kubetest.Deployment("prod", "api", "app:v1", 2, 1, 1, 0)
	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "pw"}}}}
	kubetest.PastDeadline(d, "rejected DB_PASSWORD value hunter2 of the pod")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod"}, Data: map[string][]byte{"pw": []byte("hunter2\n")}}
	r, _ := runAgainst(t, []runtime.Object{d, kubetest.ReplicaSetFor(d, 2), secret}, Deps{}, "--workload", "deploy/api", "--timeout", "30s")
	js, err := report.JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != report.VerdictFailed || !strings.Contains(string(js), "[secret DB_PASSWORD redacted]") {
		t.Fatalf("verdict %s; the message was not masked, or the test did not reach it:\n%s", r.Verdict, js)
	}
	if strings.Contains(string(js), "hunter2") {
		t.Errorf("the Secret value is in the report:\n%s", js)
	}
}
