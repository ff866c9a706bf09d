package watch

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The liveness hold (issue 24). A liveness probe that cannot pass says so at its first run: the
// kubelet records a `Warning Unhealthy` event for every failed run, and its first run comes one
// probe tick after initialDelaySeconds (after the startup probe passed, where there is one). So a
// healthy verdict waits, for each new container with a liveness probe, until that first run has
// had time to fail and its event time to reach the gate: initialDelaySeconds + periodSeconds +
// timeoutSeconds from the container's start, plus evidenceMargin. Any sign of trouble in the
// container (an Unhealthy event of its liveness probe, a readiness failure after its pod was Ready,
// a NotReady turn of its pod, a restart) puts it back on the full kill window (killWindowEnd): the
// probe must then outlast its failure threshold, with the loaded kubelet's margin, before the
// verdict. Waiting for the kill itself, as the soak used to, cost 72 s on every healthy rollout
// with the API's default probes.

// evidenceMargin is the slack after a liveness probe's first possible run, for a kubelet that runs
// the probe late and an event that reaches the gate late, derived from hack/bench-probe-lag.sh on
// the two-core local cluster (README, "How it decides"). Under load (4 and 8 busy loops on the 2
// cores, 6 and 12 pods probed every 3 s) the first failed probe came at most 5 s after the
// container's start, 2 s inside initialDelaySeconds + periodSeconds + timeoutSeconds (42 of 42
// pods), and an Unhealthy event reached a watch at most 1.0 s after its own timestamp (470 events).
// The kubelet's timestamps are whole seconds, so the start can be up to 1 s later than it says:
// 1 s + 1 s is the need measured; 5 s is two and a half times that, for what the bench did not
// reproduce (the gate's own informers and judge on a loaded node).
const evidenceMargin = 5 * time.Second

// troubleSeen says why a container is back on its full kill window, or "" when nothing was seen:
// a restart, a NotReady turn of its pod (flaps), an Unhealthy event of its liveness probe in this
// run, or a readiness failure after its pod turned Ready.
func troubleSeen(pod *corev1.Pod, cs corev1.ContainerStatus, fails []podstate.ProbeEvent, flaps int) string {
	if cs.RestartCount > 0 {
		return fmt.Sprintf("it restarted %d times", cs.RestartCount)
	}
	if flaps > 0 {
		return "its pod turned NotReady"
	}
	var started, ready time.Time
	if cs.State.Running != nil {
		started = cs.State.Running.StartedAt.Time
	}
	if podstate.Ready(pod) {
		ready = podstate.ReadySince(pod)
	}
	for _, f := range fails {
		if f.Container != cs.Name || f.Last.Before(started) {
			continue
		}
		switch {
		case f.Kind == podstate.Liveness:
			return "its liveness probe failed"
		case f.Kind == podstate.Readiness && !ready.IsZero() && f.Last.After(ready):
			return "its readiness probe failed after ready"
		}
	}
	return ""
}

// holdEnd is the moment until which a complete rollout is held for one container's liveness
// probe, and why: one probe period after its first possible run with evidenceMargin when nothing
// was seen, else the full kill window (killWindowEnd). Zero when the container has no liveness
// probe or is not running.
func holdEnd(pod *corev1.Pod, cs corev1.ContainerStatus, fails []podstate.ProbeEvent, startedSeen time.Time, flaps int, now time.Time) (time.Time, string) {
	c := podstate.Spec(pod, cs.Name)
	if c == nil || c.LivenessProbe == nil || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
		return time.Time{}, ""
	}
	if why := troubleSeen(pod, cs, fails, flaps); why != "" {
		return killWindowEnd(pod, cs, startedSeen, now), fmt.Sprintf("liveness window of %s/%s: %s", pod.Name, cs.Name, why)
	}
	timing := podstate.WithDefaults(c.LivenessProbe)
	from := livenessFrom(pod, c, cs, startedSeen, now)
	return from.Add(timing.Period + timing.Timeout + evidenceMargin), fmt.Sprintf("first liveness probe of %s/%s", pod.Name, cs.Name)
}
