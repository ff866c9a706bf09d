package github

import (
	"strings"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// warnOverrides prints one ::warning:: per workload whose own rollout-gate.io/ annotations were
// set, applied or refused: a workload's settings never replace the run's unseen.
func (s *session) warnOverrides(r *report.Report) {
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if len(w.Overrides) == 0 {
			continue
		}
		parts := make([]string, len(w.Overrides))
		for j, o := range w.Overrides {
			parts[j] = o.String() + ": " + o.Why
		}
		lead := w.OverrideLine()
		if lead == "" {
			lead = w.Ref() + " has its own rollout-gate.io/ annotations"
		}
		// The text is the gate's own (annotation names, parsed values, fixed sentences) but for
		// the workload's name; command() escapes what the runner would read as a command.
		s.warn("%s (%s)", lead, strings.Join(parts, "; "))
	}
}
