package report

import (
	"bytes"
	"strings"
	"testing"
)

// rolledBackWorkload failed, and its diagnosis (written before the rollback) says to roll back;
// its rollback ended as rb says.
func rolledBackWorkload(rb *Rollback) Workload {
	w := Workload{Kind: "Deployment", Namespace: "production", Name: "api", Revision: "5", Verdict: VerdictFailed, Reason: "CrashLoopBackOff",
		Findings: []Finding{{Cause: CauseAppCrash, Summary: "container api crashes at start-up", Confidence: ConfidenceHigh,
			Fix: []string{
				"# fix the code or Dockerfile, push a new image, then:",
				"kubectl set image deployment/api api=<fixed image> -n production",
				"# or roll back to the previous revision:",
				"kubectl rollout undo deployment/api -n production",
			}}},
		Rollback: rb,
	}
	return w
}

// fixRenderings are the places the first finding's fix is shown, by name: the Markdown and text
// reports and FixCommands itself.
func fixRenderings(t *testing.T, r *Report) map[string]string {
	t.Helper()
	var text bytes.Buffer
	if err := Text(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"Markdown": Markdown(r, MarkdownOptions{}), "text": text.String(),
		"FixCommands": strings.Join(r.Workloads[0].FixCommands(&r.Workloads[0].Findings[0]), "\n")}
}

// wantSays checks that out (shown as where) contains text exactly when want says; what names
// what the text means.
func wantSays(t *testing.T, where, out, text string, want bool, what string) {
	t.Helper()
	if got := strings.Contains(out, text); got != want {
		t.Errorf("%s %s: %v, want %v\n%s", where, what, got, want, out)
	}
}

// TestFixAfterRollback is the known bug: once the gate had rolled a workload back, the fix in the
// PR comment (and the terminal) still said `kubectl rollout undo`, which would go back one
// revision further. After an undo the fix says the rollback was done and what is left to do; a
// rollback that changed nothing keeps the suggestion.
func TestFixAfterRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rb       *Rollback
		wantUndo bool
	}{
		{name: "rolled back, healthy again", rb: &Rollback{Status: RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true}},
		{name: "rolled back, still failing", rb: &Rollback{Status: RollbackFailed, FromRevision: "5", ToRevision: "4", Undone: true,
			Message: "rolled back deployment production/api from revision 5 to revision 4, but it is still failing"}},
		{name: "rolled back, not healthy in time", rb: &Rollback{Status: RollbackTimeout, FromRevision: "5", ToRevision: "4", Undone: true}},
		{name: "no rollback asked", rb: nil, wantUndo: true},
		{name: "undo refused", rb: &Rollback{Status: RollbackFailed, Message: "undo deployment production/api: forbidden"}, wantUndo: true},
		{name: "dry run", rb: &Rollback{Status: RollbackDryRun, FromRevision: "5", ToRevision: "4"}, wantUndo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := failedReport(VerdictFailed, 30, rolledBackWorkload(tt.rb))
			for name, out := range fixRenderings(t, r) {
				wantSays(t, name, out, "rollout undo", tt.wantUndo, "suggests kubectl rollout undo")
				wantSays(t, name, out, "# the gate rolled this workload back to revision 4", !tt.wantUndo, "says the gate rolled it back")
				wantSays(t, name, out, "kubectl set image deployment/api api=<fixed image> -n production", true, "keeps the rest of the fix")
			}
		})
	}
}

// TestRetryAfterRollback is the known bug: after a rollback the fix still said "the kubelet
// retries on its own; watch the pods start", telling the on-call engineer to wait for pods that the
// rollback had removed. After an undo that line and its status command give way to the rollback's
// line, which says nothing retries; without an undo the diagnosis's words stand.
func TestRetryAfterRollback(t *testing.T) {
	t.Parallel()
	for _, lead := range []string{RetryLeadIn, RetryMountLeadIn} {
		for _, tt := range []struct {
			name      string
			rb        *Rollback
			wantRetry bool
		}{
			{name: "rolled back", rb: &Rollback{Status: RollbackRolledBack, ToRevision: "4", Undone: true}},
			{name: "rolled back, still failing", rb: &Rollback{Status: RollbackFailed, ToRevision: "4", Undone: true}},
			{name: "no rollback", wantRetry: true},
			{name: "rollback skipped", rb: &Rollback{Status: RollbackSkipped}, wantRetry: true},
		} {
			t.Run(lead+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				w := rolledBackWorkload(tt.rb)
				w.Findings[0].Fix = []string{"kubectl create secret generic api-db -n production", lead,
					"kubectl rollout status deployment/api -n production", "# or roll back to the previous revision:",
					"kubectl rollout undo deployment/api -n production"}
				for name, out := range fixRenderings(t, failedReport(VerdictFailed, 30, w)) {
					wantSays(t, name, out, "on its own; watch the pods start", tt.wantRetry, "says to wait for the kubelet's retry")
					wantSays(t, name, out, "kubectl rollout status", tt.wantRetry, "says to watch the rollout")
					wantSays(t, name, out, "nothing retries on its own: once the fix is in, deploy again", !tt.wantRetry, "says nothing retries after the rollback")
					wantSays(t, name, out, "kubectl create secret generic api-db -n production", true, "keeps the fix itself")
				}
			})
		}
	}
}

// TestTextSaysTheRollbackOnce is the known bug: the terminal report said a rollback twice, in
// its own words and again in the gate's message, which begins with the same account
// ("rollback: rolled back from revision 5 to revision 4, healthy again in 21s: rolled back
// deployment production/api from revision 5 to revision 4 and it is healthy again").
func TestTextSaysTheRollbackOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rb   *Rollback
		want string
	}{
		{name: "healthy again", rb: &Rollback{Status: RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 21.4,
			Message: "rolled back deployment production/api from revision 5 to revision 4 and it is healthy again: deployment \"api\" successfully rolled out"},
			want: "rollback: rolled back from revision 5 to revision 4, healthy again in 21s\n"},
		{name: "still failing", rb: &Rollback{Status: RollbackFailed, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 120,
			Message: "rolled back deployment production/api from revision 5 to revision 4, but it is still failing: pod api-1: CrashLoopBackOff"},
			want: "rollback: rolled back deployment production/api from revision 5 to revision 4, but it is still failing: pod api-1: CrashLoopBackOff (2m0s)\n"},
		{name: "not healthy in time", rb: &Rollback{Status: RollbackTimeout, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 300,
			Message: "rolled back deployment production/api from revision 5 to revision 4, but it did not become healthy within 5m0s"},
			want: "rollback: rolled back deployment production/api from revision 5 to revision 4, but it did not become healthy within 5m0s (5m0s)\n"},
		{name: "not applied", rb: &Rollback{Status: RollbackFailed, Message: "undo deployment production/api: forbidden"},
			want: "rollback: rollback failed; the undo was not applied: undo deployment production/api: forbidden\n"},
		{name: "skipped", rb: &Rollback{Status: RollbackSkipped, Message: `its annotation rollout-gate.io/rollback is "false"`},
			want: "rollback: rollback skipped: its annotation rollout-gate.io/rollback is \"false\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Text(&b, failedReport(VerdictFailed, 30, rolledBackWorkload(tt.rb)), TextOptions{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, "  "+tt.want) {
				t.Errorf("text report does not say %q\n%s", tt.want, out)
			}
			if n := strings.Count(out, "from revision 5 to revision 4"); n > 1 {
				t.Errorf("the rollback is said %d times\n%s", n, out)
			}
		})
	}
}
