package app

import (
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/watch"
)

// TestLeftInPlace: the one rule both rollbacks (kubectl's undo and Helm's) follow for a workload
// a timeout stopped while it was not stuck.
func TestLeftInPlace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		res       watch.Result
		onTimeout bool
		want      bool
	}{
		{"failed", watch.Result{Verdict: report.VerdictFailed}, false, false},
		{"stuck timeout", watch.Result{Verdict: report.VerdictTimeout}, false, false},
		{"still progressing", watch.Result{Verdict: report.VerdictTimeout, StillProgressing: true}, false, true},
		{"paused", watch.Result{Verdict: report.VerdictTimeout, Paused: true}, false, true},
		{"paused, --rollback-on-timeout", watch.Result{Verdict: report.VerdictTimeout, Paused: true}, true, false},
		{"still progressing, --rollback-on-timeout", watch.Result{Verdict: report.VerdictTimeout, StillProgressing: true}, true, false},
		{"healthy", watch.Result{Verdict: report.VerdictHealthy, StillProgressing: true}, false, false},
	} {
		if got := leftInPlace(tc.res, &Options{RollbackOnTimeout: tc.onTimeout}); got != tc.want {
			t.Errorf("%s: leftInPlace = %v, want %v", tc.name, got, tc.want)
		}
	}
}
