package watch

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The kubelet's probe windows, read from the live pod's spec. A rollout is judged healthy only once
// every new container has outlived the window in which its own probes could still kill it, and a
// readiness probe that keeps failing fails the rollout once it has had its full window and then
// some, instead of at --timeout.
//
// All windows count from the container's last start as the kubelet reports it, and add a margin:
// on a busy node the kubelet's probe workers, its restarts and its status updates run seconds late
// (measured on a two-core node under full CPU load), and a soak that ends one probe period too
// early passes a container the kubelet is about to kill.

// Probe defaults of the API server, for pods whose probes leave a field zero (a fake client or a
// hand-written fixture; the API server always fills them in).
const (
	defaultProbePeriod   = 10 * time.Second
	defaultProbeTimeout  = 1 * time.Second
	defaultFailThreshold = 3
)

// probeMargin is the slack added to a probe window for a loaded kubelet: half the window again,
// plus a fixed 10 s for the restart and status update that follow a kill.
func probeMargin(window time.Duration) time.Duration { return window/2 + 10*time.Second }

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

func probePeriod(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds <= 0 {
		return defaultProbePeriod
	}
	return seconds(p.PeriodSeconds)
}

func probeTimeout(p *corev1.Probe) time.Duration {
	if p.TimeoutSeconds <= 0 {
		return defaultProbeTimeout
	}
	return seconds(p.TimeoutSeconds)
}

func failureThreshold(p *corev1.Probe) int32 {
	if p.FailureThreshold <= 0 {
		return defaultFailThreshold
	}
	return p.FailureThreshold
}

// failWindow is how long a probe takes, at the longest, to reach its failure threshold once it
// starts failing: failureThreshold probes one period apart, one more period for the ticker's
// alignment with the start, and the last probe's timeout.
func failWindow(p *corev1.Probe) time.Duration {
	return probePeriod(p)*time.Duration(failureThreshold(p)+1) + probeTimeout(p)
}

// containerSpec finds the spec of a container (app containers, then init containers).
func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	return nil
}

// longRunning lists the statuses of the containers that run for the pod's life: app containers and
// sidecars (init containers with restartPolicy Always).
func longRunning(pod *corev1.Pod) []corev1.ContainerStatus {
	out := append([]corev1.ContainerStatus(nil), pod.Status.ContainerStatuses...)
	for _, cs := range pod.Status.InitContainerStatuses {
		if c := containerSpec(pod, cs.Name); c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, cs)
		}
	}
	return out
}

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
	from := start.Add(seconds(c.LivenessProbe.InitialDelaySeconds))
	if c.StartupProbe != nil {
		passed := startedSeen
		if passed.IsZero() {
			// Not recorded (a fixture, or the first look): the pod's turn to Ready came after the
			// startup probe passed; failing that, now is the latest safe guess.
			passed = now
			if rc := podCondition(pod, corev1.PodReady); rc != nil && rc.Status == corev1.ConditionTrue && !rc.LastTransitionTime.IsZero() {
				passed = rc.LastTransitionTime.Time
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
	c := containerSpec(pod, cs.Name)
	if c == nil || c.LivenessProbe == nil || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return time.Time{}
	}
	from := livenessFrom(pod, c, cs, startedSeen, now)
	w := failWindow(c.LivenessProbe)
	return from.Add(w + probeMargin(w))
}

// probeFailure is one Unhealthy event of a pod: which probe of which container, whether the
// probe errored (the kubelet could not run it: an Unknown result, which never kills), when it first
// and last happened and how often (a folded event counts every repeat).
type probeFailure struct {
	kind        string // Liveness, Readiness or Startup
	container   string
	message     string
	errored     bool
	first, last time.Time
	count       int32
}

// probeFailures reads the kubelet's Unhealthy events of one pod ("Liveness probe failed: ...",
// "Liveness probe errored and resulted in unknown state: ..."), folded or not. The container is in
// the event's fieldPath, `spec.containers{NAME}`.
func probeFailures(pod *corev1.Pod, events []*corev1.Event) []probeFailure {
	var out []probeFailure
	for _, e := range events {
		if e.Reason != "Unhealthy" || e.InvolvedObject.UID != pod.UID {
			continue
		}
		msg := podstate.EventMessage(e)
		kind, rest, ok := strings.Cut(msg, " probe ")
		if !ok || (kind != "Liveness" && kind != "Readiness" && kind != "Startup") {
			continue
		}
		first, last := podstate.EventTimes(e)
		out = append(out, probeFailure{kind: kind, container: fieldPathContainer(e.InvolvedObject.FieldPath),
			message: msg, errored: strings.HasPrefix(rest, "errored"), first: first, last: last, count: podstate.EventCount(e)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].last.Before(out[j].last) })
	return out
}

// minProbeErrors is how many errored runs of a liveness or startup probe, in one run of the
// container, past the window in which the probe would have killed it, prove that the probe cannot
// work: more than one, so a single exec that raced a restart is not a verdict.
const minProbeErrors = 3

// probeCannotWork is the verdict on a running container whose liveness or startup probe errors
// (the kubelet cannot run it: a missing binary, a bad exec) or fails on every run without the kill
// that must follow: such a probe passes in silence and can never restart the container on a hang.
// It holds once the probe's own kill window with the kubelet's margin is over, the probe has kept
// erroring or failing through it (the newest report within a window of now), and, for failures,
// there was one on every period (intermittent failures are a flaky app, not a dead probe).
// reason is the watch's reason (LivenessProbeErrored, StartupProbeFailing, ...); ok is false when
// the rule does not apply; recheck is when it may next.
func probeCannotWork(pod *corev1.Pod, cs corev1.ContainerStatus, fails []probeFailure, startedSeen, now time.Time) (reason, msg string, ok bool, recheck time.Time) {
	c := containerSpec(pod, cs.Name)
	if c == nil || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return "", "", false, time.Time{}
	}
	started := cs.State.Running.StartedAt.Time
	for _, kind := range []string{"Startup", "Liveness"} {
		var p *corev1.Probe
		var from time.Time
		switch {
		case kind == "Startup" && c.StartupProbe != nil:
			p = c.StartupProbe
			from = started.Add(seconds(p.InitialDelaySeconds))
		case kind == "Liveness" && c.LivenessProbe != nil && (c.StartupProbe == nil || cs.Started == nil || *cs.Started):
			// The kubelet runs no liveness probe before the startup probe passes.
			p = c.LivenessProbe
			from = livenessFrom(pod, c, cs, startedSeen, now)
		default:
			continue
		}
		w := failWindow(p)
		windowEnd := from.Add(w + probeMargin(w))
		var n int32
		var errored, failed bool
		var newest *probeFailure
		var span time.Time // the first report of this run
		for i := range fails {
			f := &fails[i]
			if f.kind != kind || f.container != cs.Name || f.last.Before(started) {
				continue
			}
			// A folded event that began in an earlier run counts once in this one.
			if f.first.Before(started) {
				n++
				span = started
			} else {
				n += f.count
				if span.IsZero() || f.first.Before(span) {
					span = f.first
				}
			}
			errored, failed = errored || f.errored, failed || !f.errored
			newest = f
		}
		if newest == nil {
			continue
		}
		if now.Before(windowEnd) {
			recheck = earliest([]time.Time{recheck, windowEnd})
			continue
		}
		if now.Sub(newest.last) > w+probeMargin(w) {
			continue // it has stopped erroring
		}
		switch {
		case errored && !failed && n >= minProbeErrors:
		case !errored && n > failureThreshold(p) && int64(n) >= int64(newest.last.Sub(span)/probePeriod(p)):
		default:
			continue
		}
		what, reason := "errored", kind+"ProbeErrored"
		if !errored {
			what, reason = "failed", kind+"ProbeFailing"
		}
		return reason, fmt.Sprintf("container %s: its %s probe %s %d times in %s of running and never killed it: %s",
			cs.Name, strings.ToLower(kind), what, n, now.Sub(started).Round(time.Second), newest.message), true, time.Time{}
	}
	return "", "", false, recheck
}

// fieldPathContainer returns NAME from "spec.containers{NAME}" or "spec.initContainers{NAME}".
func fieldPathContainer(fp string) string {
	_, rest, ok := strings.Cut(fp, "{")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "}")
	return name
}

// eventLast is when an event last happened, whichever API wrote it: each fold of a repeat into
// the event moves it.
func eventLast(e *corev1.Event) time.Time {
	_, last := podstate.EventTimes(e)
	return last
}

// livenessHold is the moment until which a recent liveness probe failure holds the verdict: the
// probe must then pass for a full failure window (with margin) before the container can be called
// healthy, or the kubelet kills it and the crash rules take over. Zero when no such failure
// happened during the container's current run. Startup probe failures do not hold: they are the
// normal course of a slow start, and the startup probe stops once it has passed.
func livenessHold(pod *corev1.Pod, cs corev1.ContainerStatus, fails []probeFailure) (time.Time, string) {
	c := containerSpec(pod, cs.Name)
	if c == nil || cs.State.Running == nil {
		return time.Time{}, ""
	}
	started := cs.State.Running.StartedAt.Time
	var hold time.Time
	var msg string
	for _, f := range fails {
		if f.kind != "Liveness" || f.container != cs.Name || f.last.Before(started) || c.LivenessProbe == nil {
			continue
		}
		w := failWindow(c.LivenessProbe)
		if end := f.last.Add(w + probeMargin(w)); end.After(hold) {
			hold, msg = end, f.message
		}
	}
	return hold, msg
}

// readinessStall is the verdict on one running, not-ready container that has a readiness probe:
// the deadline after which its failing probe fails the rollout, and the newest failure message.
// The window counts from the last moment of progress (the container's start, its startup probe
// passing, or the pod turning NotReady), and is the probe's own time to first success with the
// kubelet's margin, plus grace. ok is false when the rule does not apply: no readiness probe, the
// startup probe still in charge (it kills on its own budget), or no readiness failure reported
// since then (a kubelet too busy to probe has not said the app is unhealthy).
func readinessStall(pod *corev1.Pod, cs corev1.ContainerStatus, fails []probeFailure, startedSeen time.Time, grace time.Duration) (deadline time.Time, msg string, ok bool) {
	c := containerSpec(pod, cs.Name)
	if c == nil || c.ReadinessProbe == nil || cs.Ready || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return time.Time{}, "", false
	}
	anchor := cs.State.Running.StartedAt.Time
	if c.StartupProbe != nil {
		if cs.Started == nil || !*cs.Started || startedSeen.IsZero() {
			return time.Time{}, "", false
		}
		if startedSeen.After(anchor) {
			anchor = startedSeen
		}
	}
	if rc := podCondition(pod, corev1.PodReady); rc != nil && rc.Status != corev1.ConditionTrue && rc.LastTransitionTime.After(anchor) {
		anchor = rc.LastTransitionTime.Time
	}
	var last *probeFailure
	for i := range fails {
		f := &fails[i]
		if f.kind == "Readiness" && f.container == cs.Name && !f.last.Before(anchor) {
			last = f
		}
	}
	if last == nil {
		return time.Time{}, "", false
	}
	p := c.ReadinessProbe
	w := seconds(p.InitialDelaySeconds) + failWindow(p)
	return anchor.Add(w + probeMargin(w) + grace), last.message, true
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
