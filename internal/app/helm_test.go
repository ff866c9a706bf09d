package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// helmSecret is revision version of release name as Helm's Secrets driver stores it.
func helmSecret(t *testing.T, ns, name string, version int, status, manifest string) *corev1.Secret {
	t.Helper()
	js, _ := json.Marshal(map[string]any{"name": name, "namespace": ns, "version": version,
		"info": map[string]any{"status": status}, "manifest": manifest})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(js)
	_ = zw.Close()
	v := string(rune('0' + version))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + name + ".v" + v, Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": name, "status": status, "version": v}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))},
	}
}

const shopManifest = "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n" +
	"---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n"

func TestRunHelmRelease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		args         []string
		status       string
		wantCode     int
		wantErr      string
		wantProgress string
	}{
		{name: "deployed release", args: []string{"--helm-release", "shop"}, status: "deployed", wantCode: fault.ExitHealthy,
			wantProgress: "helm release shop -n prod: revision 2 (deployed, stored in secrets)"},
		{name: "pending upgrade is gated, and said", args: []string{"--helm-release", "shop"}, status: "pending-upgrade", wantCode: fault.ExitHealthy,
			wantProgress: "revision 2 is still pending-upgrade: Helm has not finished it"},
		{name: "unknown release", args: []string{"--helm-release", "nope"}, status: "deployed", wantCode: fault.ExitInvalid,
			wantErr: "helm release nope not found in namespace prod"},
		{name: "invalid release name", args: []string{"--helm-release", "Shop_1"}, status: "deployed", wantCode: fault.ExitInvalid,
			wantErr: `--helm-release "Shop_1": not a valid Helm release name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := append(completeRollout("api"),
				helmSecret(t, "prod", "shop", 1, "superseded", "# Source: shop/templates/old.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old\n"),
				helmSecret(t, "prod", "shop", 2, tc.status, shopManifest))
			var progress bytes.Buffer
			r, res := runAgainst(t, objs, Deps{Progress: &progress}, append(tc.args, "--timeout", "10s", "--soak", "0s")...)
			if res.ExitCode() != tc.wantCode {
				t.Fatalf("exit %d (%v), want %d", res.ExitCode(), r.Message, tc.wantCode)
			}
			if tc.wantErr != "" {
				if !strings.Contains(r.Message, tc.wantErr) {
					t.Errorf("message %q, want %q", r.Message, tc.wantErr)
				}
				return
			}
			if !strings.Contains(progress.String(), tc.wantProgress) {
				t.Errorf("progress %q, want %q", progress.String(), tc.wantProgress)
			}
			var got []string
			for _, w := range r.Workloads {
				src := ""
				if w.Source != nil && w.Source.Helm != nil {
					src = w.Source.String() + "@" + w.Source.Helm.Release
				}
				got = append(got, w.Ref()+"="+string(w.Verdict)+" "+src)
			}
			want := "deployment/api=healthy shop/templates/deployment.yaml@shop, service/api=skipped shop/templates/service.yaml@shop"
			if strings.Join(got, ", ") != want {
				t.Errorf("workloads %q, want %q", strings.Join(got, ", "), want)
			}
		})
	}
}

func TestValidateNothingToWatchNamesHelm(t *testing.T) {
	err := (&Options{Timeout: time.Minute, Output: "text", RollbackTimeout: time.Minute, Comment: "never"}).Validate()
	if err == nil || !strings.Contains(err.Error(), "--helm-release") {
		t.Fatalf("err %v, want the hint to name --helm-release", err)
	}
	if err := (&Options{HelmRelease: "shop", Timeout: time.Minute, Output: "text", RollbackTimeout: time.Minute, Comment: "never"}).Validate(); err != nil {
		t.Fatalf("--helm-release alone: %v", err)
	}
}

// A failed resource of a Helm release is never undone behind Helm's back (`kubectl rollout undo`
// would leave `helm history` saying the failed revision is deployed): the release is rolled back
// with Helm's own rollback, once, to the revision before; a binary without Helm's library refuses
// with the exact helm command, and nothing in the cluster changes.
func TestRunHelmReleaseRollbackIsHelms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		linked     bool
		wantStatus string
		wantMsg    string
	}{
		{name: "without Helm's library", wantStatus: report.RollbackRefused, wantMsg: "`helm rollback shop 1 -n prod`"},
		// The fake Helm changes nothing, so the Deployment is still past its deadline and the
		// verification after the rollback says so: Helm ran, once, to revision 1, and the gate
		// then watched the workload as it does after kubectl's undo.
		{name: "with Helm's library", linked: true, wantStatus: report.RollbackFailed,
			wantMsg: `with Helm's rollback (revision 3, "Rollback to 1"), but it is still failing: ReplicaSet has timed out progressing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := append(rollingOut("api", true), helmSecret(t, "prod", "shop", 1, "superseded", shopManifest), helmSecret(t, "prod", "shop", 2, "deployed", shopManifest))
			var progress bytes.Buffer
			var ran []helmrollback.Request
			deps := Deps{Progress: &progress, Getenv: func(string) string { return "" }, Now: time.Now}
			cs := kubetest.Client(objs...)
			deps.Connect = func(*Options, func(string) string) (*Cluster, error) {
				c := &Cluster{Client: cs, Namespace: "prod"}
				if tc.linked {
					c.HelmRollback = func(_ context.Context, req helmrollback.Request) error { ran = append(ran, req); return nil }
				}
				return c, nil
			}
			o, err := Parse([]string{"--helm-release", "shop", "--rollback", "--timeout", "10s", "--rollback-timeout", "1s"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			res := Run(context.Background(), o, deps)
			r := res.Report
			if res.ExitCode() != fault.ExitFailed {
				t.Fatalf("exit %d (%v), want %d", res.ExitCode(), r.Message, fault.ExitFailed)
			}
			var api report.Workload
			for _, w := range r.Workloads {
				if w.Ref() == "deployment/api" {
					api = w
				}
			}
			if api.Verdict != report.VerdictFailed || api.Rollback == nil || api.Rollback.Status != tc.wantStatus ||
				!strings.Contains(api.Rollback.Message, tc.wantMsg) || api.Rollback.Undone != tc.linked {
				t.Fatalf("deployment/api verdict %s rollback %+v, want failed, rollback %s saying %q", api.Verdict, api.Rollback, tc.wantStatus, tc.wantMsg)
			}
			if want := (helmrollback.Request{Release: "shop", Namespace: "prod", To: 1, Driver: "secrets", Timeout: time.Second, MaxHistory: 10}); tc.linked && (len(ran) != 1 || ran[0] != want) {
				t.Errorf("Helm's rollback ran %+v, want once %+v", ran, want)
			}
			if r.RolledBack != tc.linked {
				t.Errorf("report RolledBack %v, want %v", r.RolledBack, tc.linked)
			}
			if strings.Contains(progress.String(), "deployment/api: rolling back") {
				t.Errorf("the gate undid a Helm release's Deployment itself:\n%s", progress.String())
			}
		})
	}
}

// TestRunHelmReleaseOtherNamespace is issue 20's attack: a release record (planted by whoever can
// write Secrets in prod) names a workload in kube-system. It is not gated unless the CI opts in,
// and the report names it either way.
func TestRunHelmReleaseOtherNamespace(t *testing.T) {
	t.Parallel()
	manifest := shopManifest + "---\n# Source: shop/templates/dns.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: coredns\n  namespace: kube-system\n"
	for _, tc := range []struct {
		name, want, progress string
		args                 []string
	}{
		{name: "skipped by default", want: "deployment/coredns=skipped kube-system",
			progress: "deployment/coredns in namespace kube-system not gated: outside the release's namespace prod; pass --helm-cross-namespace"},
		{name: "gated when the CI opts in", args: []string{"--helm-cross-namespace"}, want: "deployment/coredns=healthy kube-system",
			progress: "gating deployment/coredns in namespace kube-system, outside the release's namespace prod (--helm-cross-namespace)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := append(completeRollout("api"), helmSecret(t, "prod", "shop", 1, "deployed", manifest))
			for _, o := range completeRollout("coredns") {
				o.(metav1.Object).SetNamespace("kube-system")
				objs = append(objs, o)
			}
			var progress bytes.Buffer
			r, res := runAgainst(t, objs, Deps{Progress: &progress}, append([]string{"--helm-release", "shop", "--timeout", "10s", "--soak", "0s"}, tc.args...)...)
			if res.ExitCode() != fault.ExitHealthy {
				t.Fatalf("exit %d (%s), want a healthy run", res.ExitCode(), r.Message)
			}
			var got string
			for _, w := range r.Workloads {
				if w.Name == "coredns" {
					got = w.Ref() + "=" + string(w.Verdict) + " " + w.Namespace
					if w.Verdict == "skipped" && !strings.Contains(w.Message, "--helm-cross-namespace") {
						t.Errorf("message %q does not say how to gate it", w.Message)
					}
				}
			}
			if got != tc.want {
				t.Errorf("coredns: %q, want %q", got, tc.want)
			}
			if !strings.Contains(progress.String(), tc.progress) {
				t.Errorf("progress %q, want %q", progress.String(), tc.progress)
			}
		})
	}
}
