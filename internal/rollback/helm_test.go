package rollback

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// helmRecord is revision version of release shop as Helm's Secrets driver labels it; the record
// holds a chart value that must never reach a message.
func helmRecord(version int, status string) runtime.Object {
	v := strconv.Itoa(version)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.shop.v" + v, Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": "shop", "status": status, "version": v}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte("c2VjcmV0LXZhbHVlLWZyb20tdGhlLWNoYXJ0")},
	}
}

// fakeHelm stands in for Helm's rollback: it records the request and, as Helm does, stores the
// rollback's revision (Helm writes it before it applies the manifest, so it exists on a failure too).
type fakeHelm struct {
	cs   *fake.Clientset
	err  error
	reqs []helmrollback.Request
}

func (f *fakeHelm) run(ctx context.Context, req helmrollback.Request) error {
	f.reqs = append(f.reqs, req)
	l, _ := f.cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	status := "deployed"
	if f.err != nil {
		status = "failed"
	}
	_, _ = f.cs.CoreV1().Secrets(ns).Create(ctx, helmRecord(len(l.Items)+1, status).(*corev1.Secret), metav1.CreateOptions{})
	return f.err
}

// TestHelmRollback: a --helm-release is rolled back once, with Helm, to the revision the plan
// chose, and each failed workload is verified as after kubectl's undo; every refusal leaves Helm
// unrun, and a binary without Helm's library gives the exact command.
func TestHelmRollback(t *testing.T) {
	t.Parallel()
	deploy, _ := workload.Lookup("deployment")
	job, _ := workload.Lookup("job")
	failed := []HelmWorkload{{Kind: deploy, Ref: report.Ref{Kind: "Deployment", Namespace: ns, Name: "api"}},
		{Kind: job, Ref: report.Ref{Kind: "Job", Namespace: ns, Name: "migrate-r2"}}}
	for _, tc := range []struct {
		name        string
		history     []runtime.Object
		judged      int
		noLibrary   bool
		dryRun      bool
		helmErr     error
		verify      Verifier
		wantStatus  [2]string
		wantRun     bool
		wantUndone  bool
		wantFromTo  [2]string
		wantMessage []string
	}{
		{name: "rolled back with Helm and verified healthy", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "deployed")}, judged: 2,
			verify: verdict(report.VerdictHealthy, ""), wantRun: true, wantUndone: true, wantFromTo: [2]string{"2", "1"},
			wantStatus:  [2]string{report.RollbackRolledBack, report.RollbackRolledBack},
			wantMessage: []string{`rolled back helm release shop -n prod from revision 2 to revision 1 with Helm's rollback (revision 3, "Rollback to 1") and it is healthy again`}},
		{name: "rolled back, still failing", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "deployed")}, judged: 2,
			verify: verdict(report.VerdictFailed, "CrashLoopBackOff"), wantRun: true, wantUndone: true, wantFromTo: [2]string{"2", "1"},
			wantStatus:  [2]string{report.RollbackFailed, report.RollbackRolledBack},
			wantMessage: []string{"but it is still failing: CrashLoopBackOff"}},
		{name: "without Helm's library: refused with the exact command", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "deployed")}, judged: 2,
			noLibrary: true, wantFromTo: [2]string{"2", "1"}, wantStatus: [2]string{report.RollbackRefused, report.RollbackRefused},
			wantMessage: []string{"built without Helm's library", "`helm rollback shop 1 -n prod`", "revision 3 \"Rollback to 1\""}},
		{name: "dry run", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "deployed")}, judged: 2, dryRun: true,
			wantFromTo: [2]string{"2", "1"}, wantStatus: [2]string{report.RollbackDryRun, report.RollbackDryRun},
			wantMessage: []string{"dry run: would roll back helm release shop -n prod from revision 2 to revision 1", "nothing was changed"}},
		{name: "first install", history: []runtime.Object{helmRecord(1, "deployed")}, judged: 1,
			wantFromTo: [2]string{"1", ""}, wantStatus: [2]string{report.RollbackSkipped, report.RollbackSkipped},
			wantMessage: []string{"first install"}},
		{name: "another helm running", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "pending-upgrade")}, judged: 2,
			wantFromTo: [2]string{"2", ""}, wantStatus: [2]string{report.RollbackRefused, report.RollbackRefused},
			wantMessage: []string{"pending-upgrade", "helm rollback shop 1 -n prod"}},
		{name: "another helm ran since", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "superseded"), helmRecord(3, "deployed")}, judged: 2,
			wantFromTo: [2]string{"3", ""}, wantStatus: [2]string{report.RollbackRefused, report.RollbackRefused},
			wantMessage: []string{"changed while the gate watched it"}},
		{name: "Helm's rollback failed after storing its revision", history: []runtime.Object{helmRecord(1, "superseded"), helmRecord(2, "deployed")}, judged: 2,
			helmErr: errors.New("conflict"), wantRun: true, wantUndone: true, wantFromTo: [2]string{"2", "1"},
			wantStatus:  [2]string{report.RollbackFailed, report.RollbackFailed},
			wantMessage: []string{"Helm's rollback of helm release shop -n prod from revision 2 to revision 1 failed: conflict", "Helm stored revision 3", "`helm rollback shop 1 -n prod`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(tc.history...)
			h := &fakeHelm{cs: cs, err: tc.helmErr}
			r := &Rollbacker{Client: kubetest.Wrap(cs), DryRun: tc.dryRun, Verify: tc.verify, Now: clock(), Helm: h.run, HelmMaxHistory: 10}
			if tc.noLibrary {
				r.Helm = nil
			}
			got := r.HelmRollback(context.Background(), HelmRelease{Name: "shop", Namespace: ns, Driver: "secrets", Judged: tc.judged, Newest: tc.judged}, failed)
			if len(got) != len(failed) {
				t.Fatalf("%d rollbacks for %d workloads", len(got), len(failed))
			}
			if ran := len(h.reqs) > 0; ran != tc.wantRun {
				t.Fatalf("Helm ran %v, want %v (%+v)", ran, tc.wantRun, got[0])
			}
			if tc.wantRun {
				want := helmrollback.Request{Release: "shop", Namespace: ns, To: 1, Driver: "secrets", Timeout: DefaultTimeout, MaxHistory: 10}
				if len(h.reqs) != 1 || h.reqs[0] != want {
					t.Errorf("Helm ran %+v, want once %+v", h.reqs, want)
				}
			}
			for i, rb := range got {
				t.Logf("%s: %s: %s", failed[i].Ref, rb.Status, rb.Message)
				if rb.Status != tc.wantStatus[i] || rb.Undone != tc.wantUndone || rb.FromRevision != tc.wantFromTo[0] || rb.ToRevision != tc.wantFromTo[1] {
					t.Errorf("%s: status %s undone %v %s->%s, want %s undone %v %s->%s", failed[i].Ref, rb.Status, rb.Undone, rb.FromRevision, rb.ToRevision,
						tc.wantStatus[i], tc.wantUndone, tc.wantFromTo[0], tc.wantFromTo[1])
				}
				if strings.Contains(rb.Message, "secret-value") || strings.Contains(rb.Message, "c2VjcmV0") {
					t.Errorf("the message quotes the release record: %s", rb.Message)
				}
			}
			if !strings.Contains(got[1].Message, tc.wantMessage[0]) && !strings.Contains(got[0].Message, tc.wantMessage[0]) {
				t.Errorf("messages %q / %q do not say %q", got[0].Message, got[1].Message, tc.wantMessage[0])
			}
			for _, w := range tc.wantMessage[1:] {
				if !strings.Contains(got[0].Message, w) {
					t.Errorf("message %q does not say %q", got[0].Message, w)
				}
			}
			if tc.wantRun && tc.helmErr == nil && !strings.Contains(got[1].Message, fmt.Sprintf("%s is as revision 1 renders it", failed[1].Ref)) {
				t.Errorf("the Job's rollback %q does not say it was re-applied unverified", got[1].Message)
			}
		})
	}
}
