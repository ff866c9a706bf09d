package watch

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The kubelet's probe windows, read from the live pod's spec. A rollout is judged healthy only once
// every new container's liveness probe has had its first run, or, when trouble was seen, has
// outlived the window in which it could still kill the container (hold.go); a readiness probe that
// keeps failing fails the rollout once it has had its full window and then some, instead of at
// --timeout.
//
// All windows count from the container's last start as the kubelet reports it, and add a margin
// (loadMargin):
// on a busy node the kubelet's probe workers, its restarts and its status updates run seconds late
// (measured on a two-core node under full CPU load), and a soak that ends one probe period too
// early passes a container the kubelet is about to kill.

// loadMargin is the slack the verdict adds to a probe's kill window (podstate.KillWindow, the
// kubelet's own bound) for a loaded node: half the window again, plus a fixed 10 s for the
// restart and status update that follow a kill. Findings state the window; only the verdict
// waits the margin on top.
func loadMargin(window time.Duration) time.Duration { return window/2 + 10*time.Second }

// StartedKey names one run of one container, for Snapshot.StartedSeen.
func StartedKey(pod *corev1.Pod, cs corev1.ContainerStatus) string {
	return fmt.Sprintf("%s/%s/%d", pod.UID, cs.Name, cs.RestartCount)
}

// livenessFrom is when the liveness probe of a running container begins to count: its
// initialDelaySeconds after the start, but not before the startup probe has passed (the kubelet
// runs no liveness probe until then). The moment the startup probe passed is not in the status;
// the watch records when it first saw `started: true` (startedSeen), which is never earlier.
func livenessFrom(pod *corev1.Pod, c *corev1.Container, cs corev1.ContainerStatus, startedSeen time.Time, now time.Time) time.Time {
	start := cs.State.Running.StartedAt.Time
	from := start.Add(podstate.WithDefaults(c.LivenessProbe).InitialDelay)
	if c.StartupProbe != nil {
		passed := startedSeen
		if passed.IsZero() {
			// Not recorded (a fixture, or the first look): the pod's turn to Ready came after the
			// startup probe passed; failing that, now is the latest safe guess.
			passed = now
			if ready := podstate.ReadySince(pod); !ready.IsZero() {
				passed = ready
			}
		}
		if passed.After(from) {
			from = passed
		}
	}
	return from
}

// killWindowEnd is the moment after which the liveness probe of this container run, had it been
// failing from its first try, would already have killed it, with the margin for a loaded kubelet.
// Zero when the container has no liveness probe or is not running.
func killWindowEnd(pod *corev1.Pod, cs corev1.ContainerStatus, startedSeen, now time.Time) time.Time {
	c := podstate.Spec(pod, cs.Name)
	if c == nil || c.LivenessProbe == nil || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return time.Time{}
	}
	from := livenessFrom(pod, c, cs, startedSeen, now)
	w := podstate.KillWindow(c.LivenessProbe)
	return from.Add(w + loadMargin(w))
}

// probeFailures reads the kubelet's Unhealthy events of one pod (podstate.ParseProbeEvent),
// folded or not, oldest last report first.
func probeFailures(pod *corev1.Pod, events []*corev1.Event) []podstate.ProbeEvent {
	var out []podstate.ProbeEvent
	for _, e := range events {
		if e.InvolvedObject.UID != pod.UID {
			continue
		}
		if f, ok := podstate.ParseProbeEvent(e); ok {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Last.Before(out[j].Last) })
	return out
}

// probeCannotWork is the verdict on a running container whose liveness or startup probe errors
// (the kubelet cannot run it: a missing binary, a bad exec) or fails on every run without the kill
// that must follow: such a probe passes in silence and can never restart the container on a hang.
// It holds once the probe's own kill window with the margin for a loaded node is over, the probe
// has kept erroring or failing through it (the newest report within a window of now), and, for
// failures, there was one on every period (intermittent failures are a flaky app, not a dead
// probe). Errors count once there are podstate.MinProbeErrors of them, so a single exec that
// raced a restart is not a verdict. reason is the watch's reason (podstate.ProbeCannotWorkVerdict);
// msg states the kill window as podstate.Probe.ExplainWindow words it, as the finding does; ok is
// false when the rule does not apply; recheck is when it may next.
func probeCannotWork(pod *corev1.Pod, cs corev1.ContainerStatus, fails []podstate.ProbeEvent, startedSeen, now time.Time) (reason, msg string, ok bool, recheck time.Time) {
	c := podstate.Spec(pod, cs.Name)
	if c == nil || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return "", "", false, time.Time{}
	}
	started := cs.State.Running.StartedAt.Time
	for _, kind := range []podstate.ProbeKind{podstate.Startup, podstate.Liveness} {
		var p *corev1.Probe
		var from time.Time
		switch {
		case kind == podstate.Startup && c.StartupProbe != nil:
			p = c.StartupProbe
			from = started.Add(podstate.WithDefaults(p).InitialDelay)
		case kind == podstate.Liveness && c.LivenessProbe != nil && (c.StartupProbe == nil || cs.Started == nil || *cs.Started):
			// The kubelet runs no liveness probe before the startup probe passes.
			p = c.LivenessProbe
			from = livenessFrom(pod, c, cs, startedSeen, now)
		default:
			continue
		}
		timing := podstate.WithDefaults(p)
		w := timing.KillWindow()
		windowEnd := from.Add(w + loadMargin(w))
		var n int32
		var errored, failed bool
		var newest *podstate.ProbeEvent
		var span time.Time // the first report of this run
		for i := range fails {
			f := &fails[i]
			if f.Kind != kind || f.Container != cs.Name || f.Last.Before(started) {
				continue
			}
			// A folded event that began in an earlier run counts once in this one.
			if f.First.Before(started) {
				n++
				span = started
			} else {
				n += f.Count
				if span.IsZero() || f.First.Before(span) {
					span = f.First
				}
			}
			errored, failed = errored || f.Errored, failed || !f.Errored
			newest = f
		}
		if newest == nil {
			continue
		}
		if now.Before(windowEnd) {
			recheck = earliest([]time.Time{recheck, windowEnd})
			continue
		}
		if now.Sub(newest.Last) > w+loadMargin(w) {
			continue // it has stopped erroring
		}
		switch {
		case errored && !failed && n >= podstate.MinProbeErrors:
		case !errored && n > timing.FailureThreshold && int64(n) >= int64(newest.Last.Sub(span)/timing.Period):
		default:
			continue
		}
		what := "errored"
		if !errored {
			what = "failed"
		}
		return podstate.ProbeCannotWorkVerdict(kind, errored), fmt.Sprintf("container %s: its %s probe %s %d times in %s of running and never killed it, past its kill window of %s: %s",
			cs.Name, kind.Lower(), what, n, now.Sub(started).Round(time.Second), timing.ExplainWindow(), newest.Message), true, time.Time{}
	}
	return "", "", false, recheck
}

// livenessHold is the moment until which a recent liveness probe failure holds the verdict: the
// probe must then pass for a full kill window (with the margin) before the container can be
// called healthy, or the kubelet kills it and the crash rules take over. Zero when no such failure
// happened during the container's current run. Startup probe failures do not hold: they are the
// normal course of a slow start, and the startup probe stops once it has passed.
func livenessHold(pod *corev1.Pod, cs corev1.ContainerStatus, fails []podstate.ProbeEvent) (time.Time, string) {
	c := podstate.Spec(pod, cs.Name)
	if c == nil || cs.State.Running == nil {
		return time.Time{}, ""
	}
	started := cs.State.Running.StartedAt.Time
	var hold time.Time
	var msg string
	for _, f := range fails {
		if f.Kind != podstate.Liveness || f.Container != cs.Name || f.Last.Before(started) || c.LivenessProbe == nil {
			continue
		}
		w := podstate.KillWindow(c.LivenessProbe)
		if end := f.Last.Add(w + loadMargin(w)); end.After(hold) {
			hold, msg = end, f.Message
		}
	}
	return hold, msg
}

// readinessStall is the verdict on one running, not-ready container that has a readiness probe:
// the deadline after which its failing probe fails the rollout, the newest failure message, and
// the probe's timing. The window counts from the last moment of progress (the container's start,
// its startup probe passing, or the pod turning NotReady), and is the probe's initial delay and
// kill window (podstate.Probe.FromStart: by then the kubelet has seen failureThreshold failures
// in a row) with the margin for a loaded node, plus grace. ok is false when the rule does not
// apply: no readiness probe, the startup probe still in charge (it kills on its own budget), or
// no readiness failure reported since then (a kubelet too busy to probe has not said the app is
// unhealthy).
func readinessStall(pod *corev1.Pod, cs corev1.ContainerStatus, fails []podstate.ProbeEvent, startedSeen time.Time, grace time.Duration) (deadline time.Time, msg string, timing podstate.Probe, ok bool) {
	c := podstate.Spec(pod, cs.Name)
	if c == nil || c.ReadinessProbe == nil || cs.Ready || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return time.Time{}, "", podstate.Probe{}, false
	}
	anchor := cs.State.Running.StartedAt.Time
	if c.StartupProbe != nil {
		if cs.Started == nil || !*cs.Started || startedSeen.IsZero() {
			return time.Time{}, "", podstate.Probe{}, false
		}
		if startedSeen.After(anchor) {
			anchor = startedSeen
		}
	}
	if rc := podstate.Condition(pod, corev1.PodReady); rc != nil && rc.Status != corev1.ConditionTrue && rc.LastTransitionTime.After(anchor) {
		anchor = rc.LastTransitionTime.Time
	}
	var last *podstate.ProbeEvent
	for i := range fails {
		f := &fails[i]
		if f.Kind == podstate.Readiness && f.Container == cs.Name && !f.Last.Before(anchor) {
			last = f
		}
	}
	if last == nil {
		return time.Time{}, "", podstate.Probe{}, false
	}
	timing = podstate.WithDefaults(c.ReadinessProbe)
	w := timing.FromStart()
	return anchor.Add(w + loadMargin(w) + grace), last.Message, timing, true
}
