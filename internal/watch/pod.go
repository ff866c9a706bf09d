package watch

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

type podJudgement struct {
	fatal   bool
	reason  string
	message string
	note    string // for the progress line; empty when the pod is unremarkable
	recheck time.Time
}

// judgePod looks at one pod of the new revision.
func judgePod(pod *corev1.Pod, s Snapshot, p Policy, now time.Time) podJudgement {
	if pod.Status.Phase == corev1.PodFailed {
		reason := orDefault(pod.Status.Reason, string(corev1.PodFailed))
		return podJudgement{fatal: true, reason: reason, message: orDefault(pod.Status.Message, "pod failed"), note: reason}
	}
	if pj, ok := judgeScheduling(pod, s.Events, s.Claims, p, now); ok {
		return pj
	}
	if pj, ok := judgeMount(pod, s.Events, p, now); ok {
		return pj
	}
	started := podstate.ScheduledAt(pod)
	var notes []string
	var recheck time.Time
	check := func(cs corev1.ContainerStatus, init bool) (podJudgement, bool) {
		label := "container " + cs.Name
		prefix := ""
		if init {
			label, prefix = "init container "+cs.Name, podstate.InitPrefix
		}
		if w := cs.State.Waiting; w != nil {
			switch podstate.WaitingOutcome(w) {
			case podstate.FailsNow:
				return podJudgement{fatal: true, reason: prefix + w.Reason, message: fmt.Sprintf("%s: %s: %s", label, w.Reason, w.Message)}, true
			case podstate.FailsAfterGrace:
				// A pull whose message is final (the image or its registry does not exist, no
				// access) fails at once; a registry blip waits out the grace (finality.go).
				if f, _ := classifyMessage(w.Message); podstate.IsPullFailure(w.Reason) && f == final {
					return podJudgement{fatal: true, reason: prefix + w.Reason, message: fmt.Sprintf("%s: %s: %s", label, w.Reason, w.Message)}, true
				}
				until := started.Add(p.PendingGrace)
				if !now.Before(until) {
					return podJudgement{fatal: true, reason: prefix + w.Reason, message: fmt.Sprintf("%s: %s for more than %s: %s", label, w.Reason, p.PendingGrace, w.Message)}, true
				}
				recheck = until
				notes = append(notes, prefix+w.Reason)
			}
		}
		crashes := podstate.Crashes(cs, init || podstate.ExitZeroEnds(pod))
		if crashes > 0 {
			last := podstate.LastTermination(cs)
			desc := fmt.Sprintf("%s%s, restarts %d", prefix, podstate.StateReason(cs), cs.RestartCount)
			if last != nil {
				desc += fmt.Sprintf(", last exit %d", last.ExitCode)
				if last.Reason != "" && last.Reason != podstate.ReasonError && last.Reason != podstate.ReasonCompleted {
					desc += " (" + last.Reason + ")"
				}
			}
			notes = append(notes, desc)
			if crashes > p.CrashTolerance {
				reason := prefix + podstate.ReasonCrashLoopBackOff
				if podstate.OOMKilled(cs) {
					reason = prefix + podstate.ReasonOOMKilled
				}
				msg := fmt.Sprintf("%s crashed %d times", label, crashes)
				if last != nil {
					msg += fmt.Sprintf(" (last exit %d", last.ExitCode)
					if last.Reason != "" {
						msg += ", " + last.Reason
					}
					msg += ")"
				}
				return podJudgement{fatal: true, reason: reason, message: msg}, true
			}
		}
		return podJudgement{}, false
	}
	for _, cs := range pod.Status.InitContainerStatuses {
		if pj, bad := check(cs, true); bad {
			pj.note = strings.Join(append(notes, pj.reason), ", ")
			return pj
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if pj, bad := check(cs, false); bad {
			pj.note = strings.Join(append(notes, pj.reason), ", ")
			return pj
		}
	}
	if n := s.Flaps[pod.Name]; n >= readinessFlapLimit {
		return podJudgement{fatal: true, reason: podstate.VerdictReadinessFlapping, note: podstate.VerdictReadinessFlapping,
			message: fmt.Sprintf("turned NotReady %d times while its containers kept running%s", n, lastReadinessFailure(pod, s.Events))}
	}
	// A liveness or startup probe that cannot work passes in silence, ready or not: fail it once
	// it has had its window (probeCannotWork).
	if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil {
		fails := probeFailures(pod, s.Events)
		for _, cs := range podstate.LongRunning(pod) {
			reason, msg, bad, at := probeCannotWork(pod, cs, fails, s.StartedSeen[StartedKey(pod, cs)], now)
			if bad {
				return podJudgement{fatal: true, reason: reason, note: reason, message: msg}
			}
			recheck = earliest([]time.Time{recheck, at})
		}
	}
	if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil && !podstate.Ready(pod) {
		fails := probeFailures(pod, s.Events)
		for _, cs := range podstate.LongRunning(pod) {
			deadline, msg, timing, ok := readinessStall(pod, cs, fails, s.StartedSeen[StartedKey(pod, cs)], p.ReadinessGrace)
			if !ok {
				continue
			}
			if !now.Before(deadline) {
				since := cs.State.Running.StartedAt.Time
				return podJudgement{fatal: true, reason: podstate.VerdictReadinessProbeFailing, note: podstate.VerdictReadinessProbeFailing,
					message: fmt.Sprintf("container %s has not become ready in %s of running; its readiness probe keeps failing past its window of %s: %s",
						cs.Name, now.Sub(since).Round(time.Second), timing.Explain(), msg)}
			}
			if recheck.IsZero() || deadline.Before(recheck) {
				recheck = deadline
			}
			notes = append(notes, "readiness probe failing ("+cs.Name+")")
		}
	}
	if len(notes) == 0 && pod.Status.Phase == corev1.PodRunning && !podstate.Ready(pod) && allRunning(pod) {
		notes = append(notes, "running, not ready")
	}
	return podJudgement{note: strings.Join(notes, ", "), recheck: recheck}
}

// lastReadinessFailure quotes the newest readiness failure of the pod, for the flapping message.
func lastReadinessFailure(pod *corev1.Pod, events []*corev1.Event) string {
	fails := probeFailures(pod, events)
	for i := len(fails) - 1; i >= 0; i-- {
		if fails[i].Kind == podstate.Readiness {
			return "; last failure: " + fails[i].Message
		}
	}
	return ""
}

// judgeMount fails a pod whose Secret or ConfigMap volume does not exist (or lacks a key the
// volume names) once that has lasted the pending grace: the kubelet retries the mount for ever and
// the pod stays in ContainerCreating, so without this the rollout would only end at --timeout.
// Within the grace the object may still arrive (applied in another order), as with env references.
func judgeMount(pod *corev1.Pod, events []*corev1.Event, p Policy, now time.Time) (podJudgement, bool) {
	if pod.Status.Phase != corev1.PodPending || pod.Spec.NodeName == "" {
		return podJudgement{}, false
	}
	var last *corev1.Event
	var lastAt time.Time
	for _, e := range events {
		if e.InvolvedObject.UID == pod.UID && e.Reason == podstate.EventFailedMount && missingObjectMount(e.Message) {
			if _, at := podstate.EventTimes(e); last == nil || at.After(lastAt) {
				last, lastAt = e, at
			}
		}
	}
	if last == nil {
		return podJudgement{}, false
	}
	until := podstate.ScheduledAt(pod).Add(p.PendingGrace)
	if !now.Before(until) {
		return podJudgement{fatal: true, reason: podstate.EventFailedMount, note: podstate.EventFailedMount,
			message: fmt.Sprintf("a volume cannot be mounted for more than %s: %s", p.PendingGrace, last.Message)}, true
	}
	return podJudgement{note: "ContainerCreating (FailedMount)", recheck: until}, true
}

// missingObjectMount: the kubelet's FailedMount messages for a Secret or ConfigMap volume whose
// object or key does not exist, e.g. `MountVolume.SetUp failed for volume "tls" : secret "web-tls"
// not found`, `... : references non-existent secret key: tls.crt` or `... : configmap references
// non-existent config key: app.yaml`.
func missingObjectMount(msg string) bool {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "not found") && (strings.Contains(m, `secret "`) || strings.Contains(m, `configmap "`)):
		return true
	case strings.Contains(m, "non-existent") && strings.Contains(m, " key"), strings.Contains(m, "couldn't find key"):
		return true
	}
	return false
}

// judgeScheduling fails a pod that stays unschedulable past the grace. A cluster autoscaler that
// is adding a node for it makes the wait longer; one that will not add a node ends it (finality.go).
// claims adds what the API said of the claims the pod waits for (claims.go) to the scheduler's words.
func judgeScheduling(pod *corev1.Pod, events []*corev1.Event, claims map[string]string, p Policy, now time.Time) (podJudgement, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		c.Message = workload.DropRepeatedTail(c.Message)
		since := c.LastTransitionTime.Time
		if since.IsZero() {
			since = pod.CreationTimestamp.Time
		}
		for _, cl := range podstate.Claims(pod) {
			if said := claims[cl.Name]; said != "" && podstate.WaitsForClaims(c.Message) {
				c.Message += "; " + said
			}
		}
		// A claim or StorageClass that does not exist, or an autoscaler that will not add a node,
		// is final; insufficient resources may clear when other pods go (finality.go).
		if f, why := classifyMessage(c.Message); f == final {
			return podJudgement{fatal: true, reason: corev1.PodReasonUnschedulable, note: corev1.PodReasonUnschedulable,
				message: fmt.Sprintf("unschedulable (%s): %s", why, c.Message)}, true
		}
		until := since.Add(p.PendingGrace)
		note := "Pending (Unschedulable)"
		switch su := scaleUpOf(pod, events); {
		case su.final:
			return podJudgement{fatal: true, reason: "Unschedulable", note: "Unschedulable",
				message: fmt.Sprintf("unschedulable, and the cluster autoscaler will not add a node for it (%s): %s", su.message, c.Message)}, true
		case su.until.After(until):
			until, note = su.until, "Pending (Unschedulable; the cluster autoscaler is adding a node)"
		}
		if !now.Before(until) {
			return podJudgement{fatal: true, reason: corev1.PodReasonUnschedulable, note: corev1.PodReasonUnschedulable,
				message: fmt.Sprintf("unschedulable for more than %s: %s", until.Sub(since).Round(time.Second), c.Message)}, true
		}
		return podJudgement{note: note, recheck: until}, true
	}
	return podJudgement{}, false
}

func allRunning(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return len(pod.Status.ContainerStatuses) > 0
}
