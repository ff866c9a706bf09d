package workload

import (
	"fmt"
	"strconv"
	"time"
)

// AnnotationPolicy says which of a workload's own rollout-gate.io/ annotations the gate applies.
// Whoever can annotate a workload (its team, a controller, its own ServiceAccount) is not
// necessarily whoever owns the pipeline: by default an annotation may only make the gate stricter.
type AnnotationPolicy string

const (
	// AnnotationsTighten applies a shorter timeout, a lower crash-tolerance, a longer soak and
	// rollback "false"; an ignore or a looser value is refused, and the report says so.
	AnnotationsTighten AnnotationPolicy = "tighten"
	// AnnotationsAll applies every annotation, looser ones too; the report names what they loosened.
	AnnotationsAll AnnotationPolicy = "all"
	// AnnotationsNone applies none; the report names what was refused.
	AnnotationsNone AnnotationPolicy = "none"
)

// ParseAnnotationPolicy reads --workload-annotations.
func ParseAnnotationPolicy(s string) (AnnotationPolicy, bool) {
	switch p := AnnotationPolicy(s); p {
	case AnnotationsTighten, AnnotationsAll, AnnotationsNone:
		return p, true
	}
	return "", false
}

// RunSettings are the run's own settings, the ones an annotation would replace.
type RunSettings struct {
	Timeout        time.Duration // 0: no run timeout
	CrashTolerance int
	Soak           time.Duration
}

// Override is one rollout-gate.io/ annotation of a workload and what the gate did with it.
type Override struct {
	Annotation string
	Value      string
	// Applied: the workload was judged with it. Loosens: it skips the workload or lets through
	// what the run's own settings would fail.
	Applied bool
	Loosens bool
	// Why says in words what was done and, when it was refused, how to allow it.
	Why string
}

// Under is the settings the policy lets a workload's annotations apply against the run's own, and
// every annotation that was set, applied or not, so that none of them acts unseen.
func (s Settings) Under(p AnnotationPolicy, run RunSettings) (Settings, []Override) {
	var eff Settings
	var out []Override
	add := func(annotation, value string, loosens, noEffect bool, apply func()) {
		o := Override{Annotation: annotation, Value: value, Loosens: loosens}
		switch {
		case p == AnnotationsNone:
			o.Why = "not applied: --workload-annotations is none"
		case p == AnnotationsAll:
			o.Applied = true
			o.Why = "applied (--workload-annotations all)"
			if loosens {
				o.Why = "applied, looser than the run's settings (--workload-annotations all)"
			}
		case loosens:
			o.Why = "not applied: it would loosen the run's settings; the CI owner can allow it with --workload-annotations all"
		case noEffect:
			o.Why = "not applied: the run's own setting is already as strict"
		default:
			o.Applied = true
			o.Why = "applied: it only makes the gate stricter"
		}
		if o.Applied {
			apply()
		}
		out = append(out, o)
	}
	if s.Ignore {
		add(AnnotationIgnore, "true", true, false, func() { eff.Ignore = true })
	}
	if s.Timeout != nil {
		d := *s.Timeout
		// The run's --timeout bounds a workload's own: a longer one changes nothing.
		add(AnnotationTimeout, d.String(), false, run.Timeout > 0 && d >= run.Timeout, func() { eff.Timeout = &d })
	}
	if s.CrashTolerance != nil {
		n := *s.CrashTolerance
		add(AnnotationCrashTolerance, strconv.Itoa(n), n > run.CrashTolerance, n == run.CrashTolerance, func() { eff.CrashTolerance = &n })
	}
	if s.Soak != nil {
		d := *s.Soak
		add(AnnotationSoak, d.String(), d < run.Soak, d == run.Soak, func() { eff.Soak = &d })
	}
	if s.NoRollback {
		add(AnnotationRollback, "false", false, false, func() { eff.NoRollback = true })
	}
	return eff, out
}

// String is "rollout-gate.io/soak=0s".
func (o Override) String() string { return fmt.Sprintf("%s=%s", o.Annotation, o.Value) }
