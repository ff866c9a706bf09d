package report

import "fmt"

// Override is one of a workload's own rollout-gate.io/ annotations, which replace the run's
// settings for it, and what the gate did with it.
type Override struct {
	Annotation string `json:"annotation"`
	Value      string `json:"value"`
	// Applied: the workload was judged with it. Loosens: it skips the workload or lets through
	// what the run's own settings would fail.
	Applied bool   `json:"applied"`
	Loosens bool   `json:"loosens"`
	Why     string `json:"why"`
}

// Ignored reports whether the workload was not checked because its own annotation said so.
func (w *Workload) Ignored() bool {
	for _, o := range w.Overrides {
		if o.Applied && o.Annotation == "rollout-gate.io/ignore" {
			return true
		}
	}
	return false
}

// Loosened lists the applied annotations that made the gate less strict for the workload.
func (w *Workload) Loosened() []Override {
	var out []Override
	for _, o := range w.Overrides {
		if o.Applied && o.Loosens {
			out = append(out, o)
		}
	}
	return out
}

// Overridden lists the workloads whose own annotations skipped them or loosened the gate: the
// run's verdict does not hold for them as the CI owner set it.
func (r *Report) Overridden() []*Workload {
	var out []*Workload
	for i := range r.Workloads {
		if len(r.Workloads[i].Loosened()) > 0 {
			out = append(out, &r.Workloads[i])
		}
	}
	return out
}

// IgnoredRefs lists the workloads not checked because their own annotation said so (the
// `ignored` output).
func (r *Report) IgnoredRefs() []string {
	var out []string
	for i := range r.Workloads {
		if r.Workloads[i].Ignored() {
			out = append(out, r.Workloads[i].Ref())
		}
	}
	return out
}

// OverrideLine says in one line what the annotations of one workload did: "deployment/payments
// was not checked: rollout-gate.io/ignore" or "deployment/api was checked with its own looser
// rollout-gate.io/soak=0s". It is empty when nothing was loosened.
func (w *Workload) OverrideLine() string {
	ref := oneLine(w.Ref(), maxCell)
	if w.Ignored() {
		return ref + " was not checked: rollout-gate.io/ignore"
	}
	var parts []string
	for _, o := range w.Loosened() {
		parts = append(parts, oneLine(o.String(), maxCell))
	}
	if len(parts) == 0 {
		return ""
	}
	return ref + " was checked with its own looser " + JoinAnd(parts)
}

// overrideNote is the headline's note on the workloads whose annotations skipped or loosened
// the gate, "" when there are none.
func (r *Report) overrideNote() string {
	ws := r.Overridden()
	switch len(ws) {
	case 0:
		return ""
	case 1, 2:
		lines := make([]string, len(ws))
		for i, w := range ws {
			lines[i] = w.OverrideLine()
		}
		return JoinAnd(lines)
	}
	return fmt.Sprintf("%s and %d more workloads were not checked or checked with looser settings, by their own annotations", ws[0].OverrideLine(), len(ws)-1)
}

// String is "rollout-gate.io/soak=0s".
func (o Override) String() string { return o.Annotation + "=" + o.Value }

// headlineEmoji is the verdict's, except that a healthy run some workload's own annotations
// skipped or loosened is not ✅.
func headlineEmoji(r *Report) string {
	if r.Verdict == VerdictHealthy && len(r.Overridden()) > 0 {
		return "⚠️"
	}
	return verdictEmoji(r.Verdict)
}
