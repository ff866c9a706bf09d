package watch

import (
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// status builds the kstatus reading of an object for the table below.
func status(st string, conds ...workload.Condition) workload.Status {
	return workload.Status{Status: st, Generation: 2, ObservedGeneration: 2, Conditions: conds}
}

func TestEvaluateStatus(t *testing.T) {
	t.Parallel()
	ready := workload.Condition{Type: "Ready", Status: "True", Reason: "Reconciled", ObservedGeneration: 2}
	tests := []struct {
		name        string
		s           workload.Status
		verdict     report.Verdict
		reason, msg string
		progress    string
	}{
		{name: "current for this generation is healthy", s: status("Current", ready), verdict: report.VerdictHealthy, reason: "Current"},
		{name: "stalled fails at once with the condition", verdict: report.VerdictFailed, reason: "QuotaExceeded", msg: "size 3 > quota 2",
			s: workload.Status{Status: "Failed", Reason: "QuotaExceeded", Message: "size 3 > quota 2", Generation: 1, ObservedGeneration: 1}},
		{name: "failed without a reason says Failed", s: status("Failed"), verdict: report.VerdictFailed, reason: "Failed"},
		{name: "ready false with a failure reason fails", verdict: report.VerdictFailed, reason: "InstallFailed", msg: "no image",
			s: status("InProgress", workload.Condition{Type: "Ready", Status: "False", Reason: "InstallFailed", Message: "no image"})},
		{name: "ready false while progressing waits",
			s: status("InProgress", workload.Condition{Type: "Ready", Status: "False", Reason: "Provisioning", Message: "attaching"})},
		{name: "ready false with a failure reason of an older generation waits",
			s: workload.Status{Status: "InProgress", Generation: 3, ObservedGeneration: 2,
				Conditions: []workload.Condition{{Type: "Ready", Status: "False", Reason: "InstallFailed"}}}},
		{name: "ready true written for an older generation waits", progress: "waiting for Ready to be written for generation 3",
			s: workload.Status{Status: "Current", Generation: 3, ObservedGeneration: -1,
				Conditions: []workload.Condition{{Type: "Ready", Status: "True", ObservedGeneration: 2}}}},
		{name: "terminating fails", s: status("Terminating"), verdict: report.VerdictFailed, reason: "Terminating"},
		{name: "no status yet waits for the controller", progress: "waiting for its controller",
			s: workload.Status{Status: "Current", Generation: 1, ObservedGeneration: -1, Empty: true}},
		{name: "a status kstatus cannot read is skipped", verdict: report.VerdictSkipped, reason: "NoStatusConditions",
			s: workload.Status{Status: "Current", Generation: 1, ObservedGeneration: -1, Silent: true}},
		{name: "unknown waits", s: status("Unknown")},
		{name: "in progress waits", s: status("InProgress", workload.Condition{Type: "Reconciling", Status: "True"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := EvaluateStatus(tt.s)
			if j.Verdict != tt.verdict || j.Reason != tt.reason || !strings.Contains(j.Message, tt.msg) || !strings.Contains(j.Progress, tt.progress) {
				t.Errorf("got %s %q %q (progress %q), want %s %q %q (progress %q)", j.Verdict, j.Reason, j.Message, j.Progress,
					tt.verdict, tt.reason, tt.msg, tt.progress)
			}
		})
	}
}

func TestStatusTimedOutQuotesConditions(t *testing.T) {
	t.Parallel()
	s := status("InProgress", workload.Condition{Type: "Ready", Status: "False", Reason: "Provisioning", Message: "waiting for vol-1"},
		workload.Condition{Type: "Reconciling", Status: "True", Reason: "Progressing"})
	s.Message = "waiting for vol-1"
	reason, msg := statusTimedOut(s, 90*time.Second)
	want := "still InProgress after 1m30s: waiting for vol-1; conditions: Ready=False (Provisioning: waiting for vol-1); Reconciling=True (Progressing)"
	if reason != "InProgress" || msg != want {
		t.Errorf("got %q %q\nwant %q", reason, msg, want)
	}
	if reason, msg := statusTimedOut(workload.Status{Empty: true}, time.Minute); reason != "NoStatus" || !strings.Contains(msg, "controller") {
		t.Errorf("empty status: %q %q", reason, msg)
	}
}

// The progress line of a status is the cluster's text: one bounded line, no control characters.
func TestStatusLineIsOneBoundedLine(t *testing.T) {
	t.Parallel()
	line := statusLine(workload.Status{Status: "InProgress", Message: "a\nb\x1b[31m" + strings.Repeat("x", 500)})
	if strings.ContainsAny(line, "\n\x1b") || len([]rune(line)) > 201 {
		t.Errorf("line %q", line)
	}
}
