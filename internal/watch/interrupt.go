package watch

import (
	"fmt"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// firstFailed is the workload whose failure ends the watch (unless --wait-all): the first, in the
// order given, with a failing verdict (failed, or timed out by its own rollout-gate.io/timeout;
// the run's --timeout ends the watch anyway).
func firstFailed(ts []*tracked) *tracked {
	for _, t := range ts {
		if t.result != nil && t.result.Verdict.Failing() {
			return t
		}
	}
	return nil
}

// interrupt gives every workload still without a verdict the verdict interrupted, with its state
// at this moment: the run ends on the first failure instead of waiting for the slowest rollout.
// Every workload judged failed in the same pass keeps its own verdict (and is rolled back).
func (w *Watcher) interrupt(caches map[string]*nsCache, ts []*tracked, failed *tracked, start time.Time) {
	now := w.now()
	for _, t := range ts {
		if t.result != nil {
			continue
		}
		res := &Result{Workload: t.w, Verdict: report.VerdictInterrupted, Reason: "Interrupted", DecidedAt: now}
		state := t.last.Progress
		if state == "" {
			state = "not seen yet"
		}
		how := "failed"
		if failed.result.Verdict == report.VerdictTimeout {
			how = "timed out"
		}
		res.Message = fmt.Sprintf("not judged to the end: the run stopped when %s %s (--wait-all judges every workload); state then: %s",
			failed.w.Ref(), how, state)
		if wl, err := caches[t.w.Namespace].get(t.w); err == nil {
			switch wl := wl.(type) {
			case workload.PodWorkload:
				pods, revision, since, _ := caches[t.w.Namespace].revisionPods(wl)
				res.Object, res.Pods, res.Revision, res.Since = wl.Object(), copyPods(pods), revision, since
			default:
				res.Object, res.Status = wl.Object(), resourceStatus(workload.StatusOf(wl))
			}
		}
		res.Since = orTime(res.Since, start)
		t.result = res
	}
}
