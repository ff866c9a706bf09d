package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/watch"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// overridesOf is the report's copy of a workload's annotations and what the policy did with them.
func overridesOf(os []workload.Override) []report.Override {
	if len(os) == 0 {
		return nil
	}
	out := make([]report.Override, len(os))
	for i, o := range os {
		out[i] = report.Override{Annotation: o.Annotation, Value: o.Value, Applied: o.Applied, Loosens: o.Loosens, Why: o.Why}
	}
	return out
}

// nothingJudged refuses a run in which every workload was skipped: that run checked nothing, so it
// is not a pass (a lone workload annotated rollout-gate.io/ignore would otherwise be a silent ✅).
func nothingJudged(ws []report.Workload) error {
	var why []string
	for i := range ws {
		if ws[i].Verdict != report.VerdictSkipped {
			return nil
		}
		why = append(why, ws[i].Ref()+": "+ws[i].Message)
	}
	return fault.CannotEvaluatef("nothing was judged: every workload was skipped (%s); the gate checked no rollout, so it cannot pass it", strings.Join(why, "; "))
}

// sayOverrides writes one progress line per workload annotation, applied or refused, so that a
// run outside Actions (no ::warning::) shows them too.
func sayOverrides(progress io.Writer, results []watch.Result) {
	for _, res := range results {
		for _, o := range res.Overrides {
			fmt.Fprintf(progress, "%s: annotation %s %s\n", res.Workload.Ref(), o, o.Why)
		}
	}
}
