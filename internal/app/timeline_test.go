package app

import (
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/diagnose"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/watch"
)

// The row puts the verdict on the workload's timeline, at the moment it was reached, sorted in
// among the diagnosis's moments.
func TestRowVerdictMoment(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 4, 4, 8, 12, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		w    report.Workload
		at   time.Time
		want []report.Moment
	}{
		{"failed, after the diagnosis's moments, sorted in", report.Workload{Verdict: report.VerdictFailed, Reason: "CrashLoopBackOff",
			Timeline: []report.Moment{{At: t0, What: "rollout began"}, {At: t0.Add(9 * time.Second), What: "Warning BackOff"}}},
			t0.Add(5 * time.Second), []report.Moment{{At: t0, What: "rollout began"},
				{At: t0.Add(5 * time.Second), What: "verdict: failed (CrashLoopBackOff)", Kind: report.MomentVerdict},
				{At: t0.Add(9 * time.Second), What: "Warning BackOff"}}},
		{"healthy, no reason", report.Workload{Verdict: report.VerdictHealthy}, t0,
			[]report.Moment{{At: t0, What: "verdict: healthy", Kind: report.MomentVerdict}}},
		{"skipped: never judged", report.Workload{Verdict: report.VerdictSkipped}, t0, nil},
		{"no time: nothing to place", report.Workload{Verdict: report.VerdictError}, time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var dn *diagnosis
			if tc.w.Timeline != nil {
				dn = &diagnosis{Result: diagnose.Result{Timeline: tc.w.Timeline}}
			}
			w := row(watch.Result{Verdict: tc.w.Verdict, Reason: tc.w.Reason, DecidedAt: tc.at}, dn, nil, nil)
			if !equalMoments(w.Timeline, tc.want) {
				t.Errorf("timeline %+v, want %+v", w.Timeline, tc.want)
			}
		})
	}
}

// The row puts a rollback that was tried on the timeline, when it began and when it ended.
func TestRowRollbackMoments(t *testing.T) {
	t.Parallel()
	began := time.Date(2026, 4, 4, 8, 13, 0, 0, time.UTC)
	end := began.Add(21400 * time.Millisecond)
	moments := func(start, ended string) []report.Moment {
		return []report.Moment{{At: began, What: start, Kind: report.MomentRollback}, {At: end, What: ended, Kind: report.MomentRollbackEnd}}
	}
	from5to4 := "rollback from revision 5 to revision 4 began"
	for _, tc := range []struct {
		name string
		rb   *report.Rollback
		want []report.Moment
	}{
		{"healthy again", &report.Rollback{Status: report.RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 21.4},
			moments(from5to4, "rolled back, healthy again")},
		{"timed out", &report.Rollback{Status: report.RollbackTimeout, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 21.4},
			moments(from5to4, "rolled back, but not healthy within the rollback timeout")},
		{"still failing", &report.Rollback{Status: report.RollbackFailed, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 21.4},
			moments(from5to4, "rolled back, but still failing")},
		{"undo failed, no revisions known", &report.Rollback{Status: report.RollbackFailed, Duration: 21.4},
			moments("rollback began", "rollback failed; the undo was not applied")},
		{"skipped: nothing happened", &report.Rollback{Status: report.RollbackSkipped, Duration: 0.1}, nil},
		{"refused: nothing happened", &report.Rollback{Status: report.RollbackRefused, FromRevision: "5", ToRevision: "4"}, nil},
		{"dry run: nothing happened", &report.Rollback{Status: report.RollbackDryRun, FromRevision: "5", ToRevision: "4"}, nil},
		{"no rollback", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var u *undo
			if tc.rb != nil {
				u = &undo{Rollback: *tc.rb, began: began}
			}
			w := row(watch.Result{Verdict: report.VerdictFailed}, nil, u, nil)
			if !equalMoments(w.Timeline, tc.want) {
				t.Errorf("timeline %+v, want %+v", w.Timeline, tc.want)
			}
		})
	}
}

func equalMoments(a, b []report.Moment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].At.Equal(b[i].At) || a[i].What != b[i].What || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}
