package watch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

func TestPolicyWith(t *testing.T) {
	t.Parallel()
	zero, two, soak := 0, 2, 45*time.Second
	run := DefaultPolicy()
	tests := []struct {
		name string
		s    workload.Settings
		want Policy
	}{
		{"nothing set keeps the run's policy", workload.Settings{}, run},
		{"crash tolerance 0", workload.Settings{CrashTolerance: &zero},
			Policy{CrashTolerance: 0, PendingGrace: run.PendingGrace, Soak: run.Soak, ReadinessGrace: run.ReadinessGrace, ProgressTimeout: run.ProgressTimeout}},
		{"crash tolerance and soak", workload.Settings{CrashTolerance: &two, Soak: &soak},
			Policy{CrashTolerance: 2, PendingGrace: run.PendingGrace, Soak: soak, ReadinessGrace: run.ReadinessGrace, ProgressTimeout: run.ProgressTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policyWith(run, tt.s); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestWatchAppliesAnnotations: api's new pod crashed once and is running again, not ready. The
// run tolerates one crash and waits a minute; the annotations change that for api alone.
func TestWatchAppliesAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		annotations map[string]string
		wantVerdict report.Verdict
		wantReason  string
		wantMsg     string
		wantCode    int // of the error, when the watch must fail
		policy      workload.AnnotationPolicy
		strict      bool   // the run's crash-tolerance is 0, not 1
		wantApplied string // each override as annotation=value:applied
	}{
		{name: "crash-tolerance 0 fails on the first crash", annotations: map[string]string{workload.AnnotationCrashTolerance: "0"},
			wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantApplied: "rollout-gate.io/crash-tolerance=0:true"},
		{name: "ignore skips it when the run allows all", policy: workload.AnnotationsAll, annotations: map[string]string{workload.AnnotationIgnore: "true"},
			wantVerdict: report.VerdictSkipped, wantReason: "Ignored", wantMsg: "rollout-gate.io/ignore", wantApplied: "rollout-gate.io/ignore=true:true"},
		// The attacker's side: the default policy judges what the annotations would hide.
		{name: "ignore is refused by default", strict: true, annotations: map[string]string{workload.AnnotationIgnore: "true"},
			wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantApplied: "rollout-gate.io/ignore=true:false"},
		{name: "a huge crash-tolerance is refused by default", strict: true, annotations: map[string]string{workload.AnnotationCrashTolerance: "2147483647", workload.AnnotationSoak: "0s"},
			wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantApplied: "rollout-gate.io/crash-tolerance=2147483647:false rollout-gate.io/soak=0s:false"},
		{name: "none refuses ignore too", policy: workload.AnnotationsNone, strict: true, annotations: map[string]string{workload.AnnotationIgnore: "true"},
			wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantApplied: "rollout-gate.io/ignore=true:false"},
		{name: "its own timeout", annotations: map[string]string{workload.AnnotationTimeout: "1s"},
			wantVerdict: report.VerdictTimeout, wantReason: "NotReady", wantMsg: "its own timeout, annotation rollout-gate.io/timeout, is 1s",
			wantApplied: "rollout-gate.io/timeout=1s:true"},
		{name: "a bad value is invalid input", annotations: map[string]string{workload.AnnotationSoak: "soon"},
			wantCode: fault.ExitInvalid, wantMsg: "deployment/api in namespace prod: annotation rollout-gate.io/soak"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, rs, pod, _ := rollout()
			d.Annotations = tt.annotations
			pod.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 1, State: running,
				LastTerminationState: terminated(1, "Error")}
			p := Policy{CrashTolerance: 1, PendingGrace: time.Minute}
			if tt.strict {
				p.CrashTolerance = 0
			}
			w := &Watcher{Client: kubetest.Client(d, rs, pod), Policy: p, Timeout: time.Minute, Annotations: tt.policy}
			res, err := w.Watch(context.Background(), []target.Target{apiDeployment})
			if tt.wantCode != 0 {
				if fault.Code(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err %v (exit %d), want exit %d naming %q", err, fault.Code(err), tt.wantCode, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Verdict != tt.wantVerdict || res[0].Reason != tt.wantReason || !strings.Contains(res[0].Message, tt.wantMsg) {
				t.Errorf("result %s %s %q, want %s %s containing %q", res[0].Verdict, res[0].Reason, res[0].Message, tt.wantVerdict, tt.wantReason, tt.wantMsg)
			}
			var applied []string
			for _, o := range res[0].Overrides {
				applied = append(applied, fmt.Sprintf("%s:%v", o, o.Applied))
			}
			if got := strings.Join(applied, " "); got != tt.wantApplied {
				t.Errorf("overrides %q, want %q", got, tt.wantApplied)
			}
		})
	}
}

// TestWatchReturnsTheSettings: the caller (the rollback) needs rollout-gate.io/rollback.
func TestWatchReturnsTheSettings(t *testing.T) {
	t.Parallel()
	d, rs, pod, _ := rollout()
	d.Annotations = map[string]string{workload.AnnotationRollback: "false", workload.AnnotationTimeout: "1s"}
	w := &Watcher{Client: kubetest.Client(d, rs, pod), Policy: DefaultPolicy(), Timeout: time.Minute}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Settings.NoRollback || res[0].Verdict != report.VerdictTimeout {
		t.Errorf("result %s with settings %+v, want a timeout that carries NoRollback", res[0].Verdict, res[0].Settings)
	}
}
