package watch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// evaluateCompletion judges a workload that runs to completion (a Job). Its controller's own
// conditions come first: Complete is healthy at once (the work is done, so there is nothing to
// soak and no probe can kill it any more), Failed fails at once with the condition's reason. Before
// either, its pods are judged by the rules of any rollout (crash loops under restartPolicy
// OnFailure, fatal waiting reasons, unschedulable, missing Secrets), with two differences: a
// container that exits 0 has finished, and a pod that ends in failure (restartPolicy Never) is an
// attempt that the Job retries up to its backoffLimit, so it is noted but decides nothing: the
// Job's Failed condition does. Its reason, or the state of its pods, says which pods failed.
func evaluateCompletion(wl workload.Completion, s Snapshot, p Policy, now time.Time) Judgement {
	j := Judgement{}
	var attempts, failedNotes []string
	var live []*corev1.Pod
	for _, pod := range sortedPods(s.Pods) {
		if ended, failed, why := attemptEnded(pod); ended {
			if failed {
				attempts = append(attempts, pod.Name)
				failedNotes = append(failedNotes, pod.Name+" failed ("+why+")")
			}
			continue
		}
		live = append(live, pod)
	}
	notes, recheck := j.judgePods(live, s, p, now)
	j.Progress = progressLine(wl, slices.Concat(failedNotes, notes))

	switch out := wl.Outcome(); {
	case out.Done:
		// Done outranks any pod state: the Job retried its way past it.
		msg := "job complete: " + wl.Progress()
		if out.Message != "" {
			msg += "; " + out.Message
		}
		return Judgement{Verdict: report.VerdictHealthy, Reason: out.Reason, Message: msg, Complete: true, Progress: j.Progress}
	case out.Failed:
		j.Verdict, j.Reason = report.VerdictFailed, out.Reason
		j.Message = "job failed: " + orDefault(out.Message, out.Reason)
		if len(failedNotes) > 0 {
			j.Message += "; " + strings.Join(failedNotes, "; ")
		}
		j.Failing = append(attempts, j.Failing...)
		j.RecheckAt = time.Time{}
		return j
	}
	if j.Verdict != "" {
		return j
	}
	j.Message = wl.Progress()
	recheck = append(recheck, j.noProgress(s, p, now))
	j.RecheckAt = earliest(recheck)
	return j
}

// attemptEnded says whether a pod of a workload that runs to completion has ended, and if so
// whether it failed and how. A pod with restartPolicy Never ends when a container exits non-zero,
// even before the kubelet has set its phase to Failed.
func attemptEnded(pod *corev1.Pod) (ended, failed bool, why string) {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return true, false, ""
	case corev1.PodFailed:
		return true, true, failedWhy(pod)
	}
	if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
		for _, cs := range pod.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
				return true, true, failedWhy(pod)
			}
		}
	}
	return false, false, ""
}

// failedWhy is the first failed container's exit, else the pod's own reason: "container migrate
// exited 1 (Error)", "Evicted".
func failedWhy(pod *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			why := fmt.Sprintf("container %s exited %d", cs.Name, t.ExitCode)
			if t.Reason != "" {
				why += " (" + t.Reason + ")"
			}
			return why
		}
	}
	return orDefault(pod.Status.Reason, string(corev1.PodFailed))
}
