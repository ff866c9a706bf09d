package podstate

import corev1 "k8s.io/api/core/v1"

// Crash and restart accounting. The kubelet's restartCount is the attempt number of the newest
// container instance: while that instance is itself dead (state terminated, or waiting in
// back-off after it) its exit is not counted yet, and CrashLoopBackOff lags the exit by a pod
// sync. An exit 0 is the end of the work, not a crash, for an init container and for the
// containers of a pod that completes (restartPolicy OnFailure or Never, a Job's pods).

// ExitZeroEnds says whether the pod's containers are meant to exit: then an exit 0 is the end of
// the work. The pods of Deployments, StatefulSets and DaemonSets always restart.
func ExitZeroEnds(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure || pod.Spec.RestartPolicy == corev1.RestartPolicyNever
}

// Crashes counts the exits of a container that led, or will lead, to a restart: restartCount,
// plus the newest instance when it is dead and not counted yet. exitZeroEnds: an exit 0 is not
// a crash (init containers, and containers of pods that complete).
func Crashes(cs corev1.ContainerStatus, exitZeroEnds bool) int {
	n := int(cs.RestartCount)
	switch {
	case cs.State.Terminated != nil:
		if !(exitZeroEnds && cs.State.Terminated.ExitCode == 0) {
			n++
		}
	case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil &&
		(cs.State.Waiting.Reason == ReasonCrashLoopBackOff || cs.State.Waiting.Reason == ReasonRunContainerError):
		n++
	}
	return n
}

// Exited says whether the container ran and exited, so that a termination is there to explain:
// it is terminated (an exit 0 of a container whose exit 0 ends its work does not count), or it
// restarted with its last termination on record, or it is in CrashLoopBackOff. It differs from
// Crashes > 0 where the count has nothing to show: restarts whose last state the kubelet no
// longer holds count as crashes but leave nothing to explain.
func Exited(cs corev1.ContainerStatus, exitZeroEnds bool) bool {
	return cs.State.Terminated != nil && !(exitZeroEnds && cs.State.Terminated.ExitCode == 0) ||
		cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil ||
		cs.State.Waiting != nil && cs.State.Waiting.Reason == ReasonCrashLoopBackOff
}

// LastTermination is the container's most recent termination: its current state when it is
// terminated, else its last state. Nil when it never ended.
func LastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

// SIGKILLAfterOOM returns the OOM kill before the container's latest exit when that exit is a
// plain SIGKILL (137) the runtime did not flag: on the local cluster the kubelet reported a
// second OOM kill of the same container as "Error", exit 137, with lastState OOMKilled. It is
// the same kill again, to be said once, as an OOM kill.
func SIGKILLAfterOOM(cs corev1.ContainerStatus) (oom *corev1.ContainerStateTerminated, ok bool) {
	t, prev := cs.State.Terminated, cs.LastTerminationState.Terminated
	if t == nil || prev == nil || t.Reason == ReasonOOMKilled || t.ExitCode != 137 || prev.Reason != ReasonOOMKilled {
		return nil, false
	}
	return prev, true
}

// OOMKilled: the container's latest exit was the OOM killer's, counting a SIGKILL right after an
// OOM kill as the same kill (SIGKILLAfterOOM).
func OOMKilled(cs corev1.ContainerStatus) bool {
	if t := LastTermination(cs); t != nil && t.Reason == ReasonOOMKilled {
		return true
	}
	_, ok := SIGKILLAfterOOM(cs)
	return ok
}

// StateReason is the container's state in one word: its waiting reason, Terminated, Running or
// Unknown.
func StateReason(cs corev1.ContainerStatus) string {
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
