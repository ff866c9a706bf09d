package app

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	kubeclient "github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// rollingOut is a Deployment at generation 2 with its ReplicaSet, not yet available; stuck, it has
// passed its progress deadline.
func rollingOut(name string, stuck bool) []runtime.Object {
	d := completeDeployment("prod", name)
	d.Generation, d.Status.ObservedGeneration = 2, 2
	d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
	if stuck {
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
			Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet has timed out progressing"}}
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-2", Namespace: "prod",
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": "2"},
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: d.Spec.Template}}
	return []runtime.Object{d, rs}
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
			client := fake.NewClientset(objs...)
			args := append([]string{"--workload", "deploy/api", "--workload", "deploy/db", "--workload", "deploy/web", "--timeout", "1m"}, tt.args...)
			o, err := Parse(args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), o, Deps{Getenv: func(string) string { return "" }, Now: time.Now,
				Connect: func(*Options, func(string) string) (kubeclient.Interface, string, error) {
					return kubetest.Wrap(client), "prod", nil
				}})
			if fault.Code(err) != tt.wantCode || r.Verdict != report.VerdictFailed {
				t.Fatalf("exit code %d verdict %s (err %v), want %d failed", fault.Code(err), r.Verdict, err, tt.wantCode)
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
