package watch

import (
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// TestCustomResourceJudgedOnlyForTheAppliedGeneration is issue 20's finding: a custom resource
// with Ready=True but nothing saying which generation it is about passed on the status it had
// before the apply; and a status.phase of Failed was skipped, which counts as green.
// (workload.TestStatusOf holds how a phase alone is read.)
func TestCustomResourceJudgedOnlyForTheAppliedGeneration(t *testing.T) {
	t.Parallel()
	ready := func(og int64) []workload.Condition {
		return []workload.Condition{{Type: "Ready", Status: "True", Reason: "Reconciled", ObservedGeneration: og}}
	}
	current := func(og int64, conds []workload.Condition) workload.Status {
		return workload.Status{Status: workload.StatusCurrent, Generation: 2, ObservedGeneration: og, Conditions: conds, Custom: true}
	}
	tests := []struct {
		name     string
		s        workload.Status
		want     report.Verdict // "" = still waiting
		progress string
	}{
		{name: "Ready=True without any generation waits", s: current(-1, ready(0)), progress: "waiting for a status about generation 2"},
		{name: "Ready=True for an older generation waits", s: current(-1, ready(1)), progress: "waiting for Ready to be written for generation 2"},
		{name: "Ready=True with the condition's generation", s: current(-1, ready(2)), want: report.VerdictHealthy},
		{name: "Ready=True with status.observedGeneration", s: current(2, ready(0)), want: report.VerdictHealthy},
		{name: "other conditions, all for this generation", s: current(-1, []workload.Condition{{Type: "Synced", Status: "True", ObservedGeneration: 2}}),
			want: report.VerdictHealthy},
		{name: "a kind kstatus has a rule for needs no generation", s: workload.Status{Status: workload.StatusCurrent, Generation: 0, ObservedGeneration: -1},
			want: report.VerdictHealthy},
		{name: "phase Failed is a failure", s: workload.Status{Status: workload.StatusFailed, Reason: "Failed", Message: `its status.phase is "Failed"`,
			Generation: 2, ObservedGeneration: -1, Custom: true}, want: report.VerdictFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := EvaluateStatus(tt.s)
			if j.Verdict != tt.want || !strings.Contains(j.Progress, tt.progress) {
				t.Errorf("verdict %q progress %q, want %q with %q", j.Verdict, j.Progress, tt.want, tt.progress)
			}
			if tt.progress == "waiting for a status about generation 2" {
				reason, msg := statusTimedOut(tt.s, time.Minute)
				if reason != "StatusNotForGeneration" || !strings.Contains(msg, "observedGeneration") {
					t.Errorf("timeout %s %q does not say why it could not be judged", reason, msg)
				}
			}
		})
	}
}
