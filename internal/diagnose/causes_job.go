package diagnose

import (
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// A Job past its activeDeadlineSeconds (issue 26). The Job controller stops its pods and sets
// Failed with reason DeadlineExceeded: that condition is the cause, whatever the pods show after
// their kill, so the finding says what the deadline was, how long the Job ran and what its pods
// were doing when time ran out.

// jobDeadlineReason is the reason of the Job's Failed condition (and of the watch's verdict).
const jobDeadlineReason = batchv1.JobReasonDeadlineExceeded

// jobDeadline is the Job's Failed condition with reason DeadlineExceeded, or nil.
func jobDeadline(ev *evidence) *batchv1.JobCondition {
	if ev.Job == nil {
		return nil
	}
	for i, c := range ev.Job.Status.Conditions {
		if (c.Type == batchv1.JobFailed || c.Type == batchv1.JobFailureTarget) && c.Status == corev1.ConditionTrue && c.Reason == jobDeadlineReason {
			return &ev.Job.Status.Conditions[i]
		}
	}
	if ev.Reason == jobDeadlineReason {
		return &batchv1.JobCondition{Type: batchv1.JobFailed, Reason: jobDeadlineReason, Message: ev.Message}
	}
	return nil
}

// jobDeadlineFinding: the Job ran out of time.
func jobDeadlineFinding(ev *evidence) report.Finding {
	cond := jobDeadline(ev)
	f := report.Finding{Cause: report.CauseJobDeadline, Confidence: report.ConfidenceHigh}
	what := orStr(ev.workloadRef(), "the Job")
	deadline := "its activeDeadlineSeconds"
	var limit time.Duration
	if s := ev.Job.Spec.ActiveDeadlineSeconds; s != nil {
		limit = time.Duration(*s) * time.Second
		deadline = fmt.Sprintf("its activeDeadlineSeconds %d (%s)", *s, roundDur(limit))
	}
	ran := ""
	if st := ev.Job.Status.StartTime; st != nil {
		end := cond.LastTransitionTime.Time
		if end.IsZero() {
			end = ev.Now
		}
		ran = roundDur(end.Sub(st.Time))
	}
	f.Summary = fmt.Sprintf("%s ran past %s and was stopped", what, deadline)
	if ran != "" {
		f.Summary = fmt.Sprintf("%s ran for %s, past %s, and was stopped", what, ran, deadline)
	}
	f.Detail = "the Job controller kills the Job's pods at activeDeadlineSeconds, counted from the Job's start, whatever they are doing; the work did not finish in time"
	f.Evidence = append(f.Evidence, fmt.Sprintf("Job condition %s=True %s: %s", cond.Type, cond.Reason, orStr(cond.Message, "Job was active longer than specified deadline")))
	for i := range ev.Pods {
		f.Evidence = append(f.Evidence, "pod "+ev.Pods[i].Name+": "+podActivity(ev, &ev.Pods[i]))
	}
	if len(ev.Pods) == 0 {
		f.Evidence = append(f.Evidence, "no pod of the Job is left to show what it was doing")
	}
	f.Fix = []string{
		command("kubectl", "logs", "job/"+ev.Name, ev.ns(), "--all-containers", "--tail=50"),
		note("if the work needs longer, raise the deadline in the Job's manifest (activeDeadlineSeconds); if it hung, fix what it waits for; then re-create the Job:"),
	}
	f.Fix = append(f.Fix, ev.jobRerun()...)
	return f
}

// podActivity says what one pod of the Job was doing: each container's state and for how long,
// and its last log line when one was read.
func podActivity(ev *evidence, p *corev1.Pod) string {
	var parts []string
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		s := "container " + cs.Name
		switch st := cs.State; {
		case st.Running != nil:
			s += " running"
			if !st.Running.StartedAt.IsZero() {
				s += " for " + roundDur(ev.Now.Sub(st.Running.StartedAt.Time))
			}
		case st.Terminated != nil:
			s += fmt.Sprintf(" ended with exit %d", st.Terminated.ExitCode)
			if st.Terminated.Reason != "" {
				s += " (" + st.Terminated.Reason + ")"
			}
			if !st.Terminated.StartedAt.IsZero() && st.Terminated.FinishedAt.After(st.Terminated.StartedAt.Time) {
				s += " after running " + roundDur(st.Terminated.FinishedAt.Sub(st.Terminated.StartedAt.Time))
			}
		case st.Waiting != nil:
			s += " waiting: " + orStr(st.Waiting.Reason, "not started")
		}
		if lt, ok := ev.Logs[logKey(p.Name, cs.Name)]; ok && len(lt.Lines) > 0 {
			s += "; last log line: " + firstLine(strings.TrimSpace(lt.Lines[len(lt.Lines)-1]), 200)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return string(p.Status.Phase)
	}
	return strings.Join(parts, "; ")
}
