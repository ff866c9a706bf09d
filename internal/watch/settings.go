package watch

import (
	"fmt"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// configure reads, once per workload, its own settings from the annotations of the live object as
// the watch first sees it, and turns them into its policy, its deadline, or a skipped verdict. The
// judge stays pure: it is handed the policy. A bad annotation ends the watch with an invalid-input
// error. A workload not in the cache yet is left for the judge (NotFound is its verdict).
func (w *Watcher) configure(caches map[string]*nsCache, ts []*tracked, start time.Time) error {
	for _, t := range ts {
		if t.configured || t.result != nil {
			continue
		}
		t.policy = w.Policy
		if w.runSettingsOnly {
			t.configured = true
			continue
		}
		wl, err := caches[t.w.Namespace].get(t.w)
		if err != nil {
			continue
		}
		asked, err := workload.SettingsOf(wl)
		if err != nil {
			return err
		}
		s, overrides := asked.Under(w.annotationPolicy(), workload.RunSettings{Timeout: w.Timeout, CrashTolerance: w.Policy.CrashTolerance, Soak: w.Policy.Soak})
		t.configured, t.settings, t.overrides = true, s, overrides
		t.policy = policyWith(w.Policy, s)
		if s.Timeout != nil {
			t.deadline = start.Add(*s.Timeout)
		}
		if s.Ignore {
			t.result = &Result{Workload: t.w, Verdict: report.VerdictSkipped, Reason: "Ignored", Since: start, DecidedAt: w.now(),
				Message: fmt.Sprintf("not watched: its annotation %s is \"true\", applied by --workload-annotations all", workload.AnnotationIgnore)}
		}
	}
	return nil
}

// policyWith is the run's policy with a workload's own settings in place of the run's flags.
func policyWith(p Policy, s workload.Settings) Policy {
	if s.CrashTolerance != nil {
		p.CrashTolerance = *s.CrashTolerance
	}
	if s.Soak != nil {
		p.Soak = *s.Soak
	}
	return p
}

// expire gives a workload past its own deadline (rollout-gate.io/timeout) the timeout verdict,
// as the run's --timeout does for all; it reports whether it did.
func (w *Watcher) expire(c *nsCache, t *tracked, start time.Time) bool {
	now := w.now()
	if t.deadline.IsZero() || now.Before(t.deadline) {
		return false
	}
	t.result = w.timedOut(c, t, now.Sub(start))
	t.result.Since = orTime(t.result.Since, start)
	t.result.Message += fmt.Sprintf(" (its own timeout, annotation %s, is %s)", workload.AnnotationTimeout, *t.settings.Timeout)
	return true
}

// annotationPolicy is the Watcher's, tighten when unset: a workload's annotations never loosen
// the gate unless the run says they may.
func (w *Watcher) annotationPolicy() workload.AnnotationPolicy {
	if w.Annotations == "" {
		return workload.AnnotationsTighten
	}
	return w.Annotations
}
