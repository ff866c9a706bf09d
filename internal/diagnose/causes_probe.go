package diagnose

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Probes that cannot work (issue 26). The kubelet reports a probe it could not run at all (an exec
// of a binary the image lacks, a runtime error) as "Liveness probe errored and resulted in unknown
// state: ..." and throws the result away: an errored probe never counts toward failureThreshold, so
// a liveness probe that errors never kills, and a hung app is never restarted. The rollout looks
// healthy; the watch fails it (LivenessProbeErrored, StartupProbeErrored), or fails a probe that
// fails on every run without the kill that must follow (LivenessProbeFailing), and this rule says
// why.

// probeErrored: the kubelet could not run the probe (podstate.ProbeEvent.Errored).
func probeErrored(e *corev1.Event) bool {
	pe, ok := podstate.ParseProbeEvent(e)
	return ok && pe.Errored
}

// brokenProbe is the liveness or startup probe of this running container that errored during its
// current run (podstate.MinProbeErrors times, or once when the watch failed the rollout for it),
// or, when the watch failed the rollout for it, failed without a kill; ok is false when neither
// did.
func (c *containerCtx) brokenProbe() (kind podstate.ProbeKind, events []corev1.Event, ok bool) {
	r := c.st.State.Running
	if r == nil || c.init && !c.sidecar() {
		return "", nil, false
	}
	for _, k := range []podstate.ProbeKind{podstate.Startup, podstate.Liveness} {
		var errs, fails []corev1.Event
		for _, e := range c.probeFailures(k) {
			if _, last := podstate.EventTimes(&e); last.Before(r.StartedAt.Time) {
				continue
			}
			if probeErrored(&e) {
				errs = append(errs, e)
			} else {
				fails = append(fails, e)
			}
		}
		var n int32
		for _, e := range errs {
			n += podstate.EventCount(&e)
		}
		switch {
		case len(errs) > 0 && (n >= podstate.MinProbeErrors || c.ev.Reason == podstate.ProbeCannotWorkVerdict(k, true)):
			return k, errs, true
		case len(fails) > 0 && c.ev.Reason == podstate.ProbeCannotWorkVerdict(k, false):
			return k, fails, true
		}
	}
	return "", nil, false
}

// probeCannotWork writes the finding for brokenProbe: what the kubelet said, the probe as the spec
// has it, what it means, and how to fix it or ship anyway.
func probeCannotWork(c *containerCtx) (report.Finding, bool) {
	probeKind, events, ok := c.brokenProbe()
	if !ok {
		return report.Finding{}, false
	}
	kind := probeKind.Lower()
	ev := c.ev
	p := c.probe(probeKind)
	window := podstate.WithDefaults(p).ExplainWindow()
	f := c.base(report.CauseLivenessProbe, report.ConfidenceHigh)
	handler := kind + " probe"
	if p != nil {
		handler = podtemplate.ProbeHandler(p)
	}
	said := events[len(events)-1].Message
	_, detail, _ := strings.Cut(said, ": ")
	errored := probeErrored(&events[0])
	meaning := "the kubelet can never restart this container on a hang"
	if kind == "startup" {
		meaning = "the container never counts as started, so it never becomes ready and its liveness probe never runs"
	}
	if errored {
		f.Summary = fmt.Sprintf("the %s probe of %s cannot run: %s errors (%s), so %s", kind, c.label(), handler, firstLine(detail, 160), meaning)
		f.Detail = fmt.Sprintf("%sProbe of %s: %s. The kubelet reports each run as errored (result Unknown), not failed: an errored probe never counts toward failureThreshold, so it never kills, not even past its kill window of %s, and the rollout looks healthy while the probe checks nothing", kind, c.label(), podtemplate.Probe(p), window)
	} else {
		f.Summary = fmt.Sprintf("the %s probe of %s fails on every run without the kubelet killing it (%s), so %s", kind, c.label(), firstLine(detail, 160), meaning)
		f.Detail = fmt.Sprintf("%sProbe of %s: %s. It failed past its failureThreshold and its kill window of %s, and the kubelet did not restart the container", kind, c.label(), podtemplate.Probe(p), window)
	}
	// The newest few events, and how many runs they stand for: a folded event counts them all.
	var n int32
	var first, last time.Time
	for _, e := range events {
		n += podstate.EventCount(&e)
		fe, le := podstate.EventTimes(&e)
		if first.IsZero() || fe.Before(first) {
			first = fe
		}
		if le.After(last) {
			last = le
		}
	}
	for _, e := range events[max(0, len(events)-3):] {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	what := "failed"
	if errored {
		what = "errored"
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("the kubelet reported %d %s %s of the %s probe from %s to %s", n, what,
		report.Plural(int(n), "run", "runs"), kind, first.UTC().Format("15:04:05Z"), last.UTC().Format("15:04:05Z")))
	if r := c.st.State.Running; r != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s has been running since %s with %d %s: the probe never killed it", c.label(),
			r.StartedAt.UTC().Format("15:04:05Z"), c.st.RestartCount, report.Plural(int(c.st.RestartCount), "restart", "restarts")))
	}
	f.Fix = []string{ev.cmdDescribePod(c.pod.Name)}
	if p != nil && p.Exec != nil && len(p.Exec.Command) > 0 {
		f.Fix = append(f.Fix, note("run the probe's command as the kubelet does, and see it fail:"),
			command("kubectl", "exec", c.pod.Name, "-c", c.st.Name, ev.ns(), "--", p.Exec.Command))
		f.Fix = append(f.Fix, note("add the program to the image, or point the probe at one the image has; or remove the probe:"))
	} else {
		f.Fix = append(f.Fix, note("fix the probe so that the kubelet can run it; or remove the probe:"))
	}
	f.Fix = append(f.Fix, ev.cmdJSONPatch(map[string]any{"op": "remove", "path": ev.containerPath(c.st.Name, c.init) + "/" + kind + "Probe"}))
	if ch, ok := changeFor(ev.Changes, c.path()+"."+kind+"Probe"); ok {
		f.Change = describeChange(kind+"Probe of "+c.label(), ch)
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	f.Fix = append(f.Fix, ev.cmdShipAnyway()...)
	return f, true
}

// cmdShipAnyway is how a team ships a workload whose probe cannot work: leave it out of the gate.
// A workload's own annotations may only make the gate stricter unless the CI owner allows more,
// so the note says that this one takes --workload-annotations all.
func (ev *evidence) cmdShipAnyway() []string {
	ref := ev.workloadRef()
	if ref == "" {
		return nil
	}
	return []string{note("to ship it as it is, leave this workload out of the gate (honoured only where the CI runs the gate with --workload-annotations all):"),
		command("kubectl", "annotate", ref, ev.ns(), workload.AnnotationIgnore+"=true", "--overwrite")}
}
