package watch

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// failureReason is a Ready=False reason that names a failure rather than progress: Flux's
// InstallFailed, cert-manager's Failed, an operator's ReconcileError or Degraded. kstatus calls
// every Ready=False InProgress, so a failed reconcile would only show as a timeout.
var failureReason = regexp.MustCompile(`(?i)(fail|error|invalid|degraded|crashloop|backoff)`)

// EvaluateStatus judges an object of a kind judged by its status alone (custom resources, PVCs,
// bare Pods) through the kstatus conventions. It is pure.
//
//   - Current, with the status written for the object's current generation: healthy.
//   - Failed (a Stalled=True condition, or kstatus's own rule for the kind), or Ready=False with
//     a failure reason, for the current generation: failed at once, with the condition's reason
//     and message.
//   - Terminating: failed (the object is being deleted while its deploy is gated).
//   - no status at all yet: in progress (its controller has not acted).
//   - a status with neither conditions nor observedGeneration, of a kind kstatus has no rule for:
//     skipped, since kstatus would call it Current whatever its state.
//   - anything else (InProgress, Unknown): in progress; past --timeout, a timeout.
func EvaluateStatus(s workload.Status) Judgement {
	j := Judgement{Progress: statusLine(s)}
	stale := s.ObservedGeneration >= 0 && s.ObservedGeneration < s.Generation
	switch {
	case s.Status == workload.StatusTerminating:
		j.Verdict, j.Reason, j.Message = report.VerdictFailed, "Terminating", "it is being deleted while its deploy is gated"
	case s.Status == workload.StatusFailed:
		j.Verdict, j.Reason, j.Message = report.VerdictFailed, orDefault(s.Reason, workload.StatusFailed), s.Message
	case s.Empty:
		j.Progress = "waiting for its controller to write a status"
	case s.Silent:
		j.Verdict, j.Reason = report.VerdictSkipped, "NoStatusConditions"
		j.Message = "its status has neither conditions nor observedGeneration: kstatus cannot tell whether it is ready, so the gate does not judge it"
	case stale:
		// kstatus says InProgress already; said here for the case of no verdict to reach.
	default:
		if c, ok := readyCondition(s); ok && c.ObservedGeneration > 0 && c.ObservedGeneration < s.Generation {
			// A metav1.Condition written for an older generation says nothing of this one.
			j.Progress = fmt.Sprintf("waiting for Ready to be written for generation %d (it is for %d)", s.Generation, c.ObservedGeneration)
			return j
		}
		if c, ok := readyCondition(s); ok && c.Status == "False" && failureReason.MatchString(c.Reason) {
			j.Verdict, j.Reason, j.Message = report.VerdictFailed, c.Reason, c.Message
			return j
		}
		if s.Status == workload.StatusCurrent {
			if why := notAboutGeneration(s); why != "" {
				// Ready on the status from before the apply would pass the spec no one has seen.
				j.Progress = why
				return j
			}
			j.Verdict, j.Reason, j.Message = report.VerdictHealthy, "Current", s.Message
			j.Complete = true
		}
	}
	return j
}

func readyCondition(s workload.Status) (workload.Condition, bool) {
	for _, c := range s.Conditions {
		if c.Type == "Ready" {
			return c, true
		}
	}
	return workload.Condition{}, false
}

// statusLine is the progress line of an object judged by its status: its kstatus status and
// message, on one bounded line (the message is the cluster's text).
func statusLine(s workload.Status) string {
	line := s.Status
	if s.Message != "" {
		line += ": " + s.Message
	}
	return oneLine(line, 200)
}

// conditionsText quotes an object's conditions for a message: "Ready=False (Provisioning: disk
// not attached); Reconciling=True (Progressing)".
func conditionsText(cs []workload.Condition) string {
	if len(cs) == 0 {
		return "no conditions"
	}
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		p := c.Type + "=" + c.Status
		switch {
		case c.Reason != "" && c.Message != "":
			p += " (" + c.Reason + ": " + c.Message + ")"
		case c.Reason != "" || c.Message != "":
			p += " (" + c.Reason + c.Message + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// notAboutGeneration says why a custom resource's status cannot be judged yet: nothing in it says
// it is about the applied generation (status.observedGeneration, or the Ready condition's own, or
// every condition's when there is no Ready); "" when it is, or when kstatus has a rule for the
// kind (a PVC, a Pod) that needs none.
func notAboutGeneration(s workload.Status) string {
	if !s.Custom || s.Generation == 0 || s.ObservedGeneration == s.Generation {
		return ""
	}
	if c, ok := readyCondition(s); ok {
		if c.ObservedGeneration == s.Generation {
			return ""
		}
	} else if len(s.Conditions) > 0 {
		all := true
		for _, c := range s.Conditions {
			all = all && c.ObservedGeneration == s.Generation
		}
		if all {
			return ""
		}
	}
	return fmt.Sprintf("waiting for a status about generation %d: its status has no observedGeneration and its conditions do not say which generation they are for, so it may still be the status from before the apply", s.Generation)
}

// statusTimedOut is the timeout verdict of an object judged by its status, quoting its conditions.
func statusTimedOut(s workload.Status, waited time.Duration) (reason, message string) {
	if s.Empty {
		return "NoStatus", fmt.Sprintf("no status after %s: its controller never wrote one; is the controller (operator) of this kind running?",
			waited.Round(time.Second))
	}
	if why := notAboutGeneration(s); why != "" && s.Status == workload.StatusCurrent {
		return "StatusNotForGeneration", fmt.Sprintf("no status about generation %d after %s: its status has no observedGeneration and its conditions do not say which generation they are for, so the gate cannot tell it from the status before the apply; have its controller set status.observedGeneration; conditions: %s",
			s.Generation, waited.Round(time.Second), conditionsText(s.Conditions))
	}
	return orDefault(s.Status, "InProgress"), fmt.Sprintf("still %s after %s: %s; conditions: %s",
		orDefault(s.Status, "InProgress"), waited.Round(time.Second), orDefault(s.Message, "no message"), conditionsText(s.Conditions))
}

// resourceStatus is the report's view of an object's status.
func resourceStatus(s workload.Status) *report.ResourceStatus {
	out := &report.ResourceStatus{Status: s.Status, Message: s.Message, Conditions: []report.Condition{}}
	if s.ObservedGeneration >= 0 {
		og := s.ObservedGeneration
		out.ObservedGeneration = &og
	}
	out.Generation = s.Generation
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, report.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
	}
	return out
}

// oneLine flattens text to one line of at most n runes, dropping control characters.
func oneLine(s string, n int) string {
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count >= n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}
