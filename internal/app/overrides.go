package app

import (
	"fmt"
	"io"
	"strings"

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

// unjudged says why the workloads' verdict is error (report.Overall): one could not be evaluated
// (the first says why), or nothing was judged, every workload skipped: that run checked nothing,
// so it cannot pass it.
func unjudged(ws []report.Workload) string {
	var why []string
	for i := range ws {
		if ws[i].Verdict == report.VerdictError {
			return ws[i].Headline()
		}
		why = append(why, ws[i].Ref()+": "+ws[i].Message)
	}
	return fmt.Sprintf("nothing was judged: every workload was skipped (%s); the gate checked no rollout, so it cannot pass it", strings.Join(why, "; "))
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
