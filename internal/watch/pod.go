package watch

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Waiting reasons that never clear by themselves: the pod spec or the image must change.
var fatalWaiting = map[string]bool{
	"ErrImageNeverPull":          true,
	"InvalidImageName":           true,
	"ImageInspectError":          true,
	"SignatureValidationFailed":  true,
	"VerifyNonRootError":         true,
	"CreateContainerConfigError": true,
	"RunContainerError":          true,
	"RunInitContainerError":      true,
	"PreCreateHookError":         true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
}

// Waiting reasons that a retry may clear (a registry blip, a sandbox race): fatal only when they
// last longer than the pending grace.
var transientWaiting = map[string]bool{
	"ErrImagePull":          true,
	"ImagePullBackOff":      true,
	"RegistryUnavailable":   true,
	"CreateContainerError":  true,
	"CreatePodSandboxError": true,
	"ConfigPodSandboxError": true,
	"KillPodSandboxError":   true,
	"SetupNetworkError":     true,
}

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
		reason := orDefault(pod.Status.Reason, "Failed")
		return podJudgement{fatal: true, reason: reason, message: orDefault(pod.Status.Message, "pod failed"), note: reason}
	}
	if pj, ok := judgeScheduling(pod, s.Events, p, now); ok {
		return pj
	}
	if pj, ok := judgeMount(pod, s.Events, p, now); ok {
		return pj
	}
	started := scheduledAt(pod)
	var notes []string
	var recheck time.Time
	check := func(cs corev1.ContainerStatus, init bool) (podJudgement, bool) {
		label := "container " + cs.Name
		prefix := ""
		if init {
			label, prefix = "init container "+cs.Name, "Init:"
		}
		if w := cs.State.Waiting; w != nil {
			switch {
			case fatalWaiting[w.Reason] && !isTransientConfigError(w):
				return podJudgement{fatal: true, reason: prefix + w.Reason, message: fmt.Sprintf("%s: %s: %s", label, w.Reason, w.Message)}, true
			case transientWaiting[w.Reason] || isTransientConfigError(w):
				// A pull whose message is final (the image or its registry does not exist, no
				// access) fails at once; a registry blip waits out the grace (finality.go).
				if f, _ := classifyMessage(w.Message); isPull(w.Reason) && f == final {
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
		crashes := crashCount(cs, init || completes(pod))
		if crashes > 0 {
			last := lastTermination(cs)
			desc := fmt.Sprintf("%s%s, restarts %d", prefix, stateReason(cs), cs.RestartCount)
			if last != nil {
				desc += fmt.Sprintf(", last exit %d", last.ExitCode)
				if last.Reason != "" && last.Reason != "Error" && last.Reason != "Completed" {
					desc += " (" + last.Reason + ")"
				}
			}
			notes = append(notes, desc)
			if crashes > p.CrashTolerance {
				reason := prefix + "CrashLoopBackOff"
				if oomKilled(cs) {
					reason = prefix + "OOMKilled"
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
		return podJudgement{fatal: true, reason: "ReadinessFlapping", note: "ReadinessFlapping",
			message: fmt.Sprintf("turned NotReady %d times while its containers kept running%s", n, lastReadinessFailure(pod, s.Events))}
	}
	// A liveness or startup probe that cannot work passes in silence, ready or not: fail it once
	// it has had its window (probeCannotWork).
	if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil {
		fails := probeFailures(pod, s.Events)
		for _, cs := range longRunning(pod) {
			reason, msg, bad, at := probeCannotWork(pod, cs, fails, s.StartedSeen[StartedKey(pod, cs)], now)
			if bad {
				return podJudgement{fatal: true, reason: reason, note: reason, message: msg}
			}
			recheck = earliest([]time.Time{recheck, at})
		}
	}
	if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil && !workload.PodReady(pod) {
		fails := probeFailures(pod, s.Events)
		for _, cs := range longRunning(pod) {
			deadline, msg, ok := readinessStall(pod, cs, fails, s.StartedSeen[StartedKey(pod, cs)], p.ReadinessGrace)
			if !ok {
				continue
			}
			if !now.Before(deadline) {
				since := cs.State.Running.StartedAt.Time
				return podJudgement{fatal: true, reason: "ReadinessProbeFailing", note: "ReadinessProbeFailing",
					message: fmt.Sprintf("container %s has not become ready in %s of running; its readiness probe keeps failing: %s",
						cs.Name, now.Sub(since).Round(time.Second), msg)}
			}
			if recheck.IsZero() || deadline.Before(recheck) {
				recheck = deadline
			}
			notes = append(notes, "readiness probe failing ("+cs.Name+")")
		}
	}
	if len(notes) == 0 && pod.Status.Phase == corev1.PodRunning && !workload.PodReady(pod) && allRunning(pod) {
		notes = append(notes, "running, not ready")
	}
	return podJudgement{note: strings.Join(notes, ", "), recheck: recheck}
}

// lastReadinessFailure quotes the newest readiness failure of the pod, for the flapping message.
func lastReadinessFailure(pod *corev1.Pod, events []*corev1.Event) string {
	fails := probeFailures(pod, events)
	for i := len(fails) - 1; i >= 0; i-- {
		if fails[i].kind == "Readiness" {
			return "; last failure: " + fails[i].message
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
	for _, e := range events {
		if e.InvolvedObject.UID == pod.UID && e.Reason == "FailedMount" && missingObjectMount(e.Message) {
			if last == nil || eventLast(e).After(eventLast(last)) {
				last = e
			}
		}
	}
	if last == nil {
		return podJudgement{}, false
	}
	until := scheduledAt(pod).Add(p.PendingGrace)
	if !now.Before(until) {
		return podJudgement{fatal: true, reason: "FailedMount", note: "FailedMount",
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
func judgeScheduling(pod *corev1.Pod, events []*corev1.Event, p Policy, now time.Time) (podJudgement, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		c.Message = workload.DropRepeatedTail(c.Message)
		since := c.LastTransitionTime.Time
		if since.IsZero() {
			since = pod.CreationTimestamp.Time
		}
		// A claim or StorageClass that does not exist, or an autoscaler that will not add a node,
		// is final; insufficient resources may clear when other pods go (finality.go).
		if f, why := classifyMessage(c.Message); f == final {
			return podJudgement{fatal: true, reason: "Unschedulable", note: "Unschedulable",
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
			return podJudgement{fatal: true, reason: "Unschedulable", note: "Unschedulable",
				message: fmt.Sprintf("unschedulable for more than %s: %s", until.Sub(since).Round(time.Second), c.Message)}, true
		}
		return podJudgement{note: note, recheck: until}, true
	}
	return podJudgement{}, false
}

// completes says whether the pod's containers are meant to exit (a Job's pods, restartPolicy
// OnFailure or Never): for them, as for init containers, an exit 0 is the end of the work and not a
// crash. The pods of Deployments, StatefulSets and DaemonSets always restart.
func completes(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure || pod.Spec.RestartPolicy == corev1.RestartPolicyNever
}

// crashCount counts the exits of a container that led, or will lead, to a restart. The kubelet's
// restartCount is the attempt number of the newest container instance, so when that instance is
// itself dead (state terminated, or waiting in back-off after it) it has not been counted yet.
// CrashLoopBackOff lags the crash by a pod sync, so the terminated state counts as evidence too.
// exitZeroEnds: an exit 0 is not a crash (init containers, and containers of pods that complete).
func crashCount(cs corev1.ContainerStatus, exitZeroEnds bool) int {
	n := int(cs.RestartCount)
	switch {
	case cs.State.Terminated != nil:
		if !(exitZeroEnds && cs.State.Terminated.ExitCode == 0) {
			n++
		}
	case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil &&
		(cs.State.Waiting.Reason == "CrashLoopBackOff" || cs.State.Waiting.Reason == "RunContainerError"):
		n++
	}
	return n
}

// oomKilled: the latest kill was the OOM killer's, or the one before was and the latest is a
// SIGKILL (exit 137) the runtime did not flag: on the local cluster the kubelet reported a second
// OOM kill of the same container as plain "Error", exit 137.
func oomKilled(cs corev1.ContainerStatus) bool {
	last := lastTermination(cs)
	if last == nil {
		return false
	}
	if last.Reason == "OOMKilled" {
		return true
	}
	prev := cs.LastTerminationState.Terminated
	return cs.State.Terminated != nil && last.ExitCode == 137 && prev != nil && prev.Reason == "OOMKilled"
}

func lastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

func stateReason(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return "Terminated"
	case cs.State.Running != nil:
		return "Running"
	}
	return "Unknown"
}

// isTransientConfigError: CreateContainerConfigError while the kubelet's Secret/ConfigMap cache
// is still syncing is a start-up race, not a missing object.
func isTransientConfigError(w *corev1.ContainerStateWaiting) bool {
	return w.Reason == "CreateContainerConfigError" && strings.Contains(w.Message, "failed to sync") && strings.Contains(w.Message, "cache")
}

func isPull(reason string) bool { return reason == "ErrImagePull" || reason == "ImagePullBackOff" }

// scheduledAt is when the pod was bound to a node (start-up errors are timed from there).
func scheduledAt(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return pod.CreationTimestamp.Time
}

func allRunning(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return len(pod.Status.ContainerStatuses) > 0
}
