package app

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// rollingOut is a Deployment at generation 2 with its ReplicaSet, not yet available; stuck, it has
// passed its progress deadline.
func rollingOut(name string, stuck bool) []runtime.Object {
	d := kubetest.Deployment("prod", name, "app:v1", 2, 1, 1, 0)
	if stuck {
		kubetest.PastDeadline(d, "ReplicaSet has timed out progressing")
	}
	return []runtime.Object{d, kubetest.ReplicaSetFor(d, 2)}
}

func TestRunFirstFailureInterruptsAndRollbackCoversEveryFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		want     string // workloads with their verdicts, and "+rb" where a rollback was attempted
		wantCode int
	}{
		{name: "default: the slow one is interrupted", args: []string{"--rollback", "--dry-run"},
			want: "deployment/api=failed+rb deployment/db=failed+rb deployment/web=interrupted", wantCode: fault.ExitFailed},
		{name: "wait-all: the slow one is judged to the end", args: []string{"--rollback", "--dry-run", "--wait-all", "--timeout", "2s"},
			want: "deployment/api=failed+rb deployment/db=failed+rb deployment/web=timeout+rb", wantCode: fault.ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var objs []runtime.Object
			objs = append(objs, rollingOut("api", true)...)
			objs = append(objs, rollingOut("db", true)...)
			objs = append(objs, rollingOut("web", false)...)
			args := append([]string{"--workload", "deploy/api", "--workload", "deploy/db", "--workload", "deploy/web", "--timeout", "1m"}, tt.args...)
			r, res := runAgainst(t, objs, Deps{}, args...)
			if res.ExitCode() != tt.wantCode || r.Verdict != report.VerdictFailed {
				t.Fatalf("exit code %d verdict %s (err %v), want %d failed", res.ExitCode(), r.Verdict, r.Message, tt.wantCode)
			}
			var got []string
			for _, w := range r.Workloads {
				s := w.Ref() + "=" + string(w.Verdict)
				if w.Rollback != nil {
					s += "+rb"
				}
				got = append(got, s)
				// Every judged workload, diagnosed or not, has its verdict on its timeline (its
				// lane in the diagram); a dry run tried no rollback, so has no rollback moments.
				var kinds []string
				for _, m := range w.Timeline {
					if m.Kind == report.MomentVerdict || m.Kind == report.MomentRollback || m.Kind == report.MomentRollbackEnd {
						kinds = append(kinds, string(m.Kind)+":"+m.What)
					}
				}
				if want := "verdict:verdict: " + string(w.Verdict) + " (" + w.Reason + ")"; len(kinds) != 1 || kinds[0] != want {
					t.Errorf("%s: timeline milestones %q, want only %q", w.Ref(), kinds, want)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("workloads %v, want %s", got, tt.want)
			}
		})
	}
}
