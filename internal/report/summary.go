package report

import (
	"fmt"
	"strings"
	"time"
)

// Failing reports whether a workload verdict fails the gate (exit code 1).
func (v Verdict) Failing() bool { return v == VerdictFailed || v == VerdictTimeout }

// phrase is how a verdict reads after a workload name: "deployment/api failed".
func (v Verdict) phrase() string {
	switch v {
	case VerdictHealthy:
		return "rolled out healthy"
	case VerdictFailed:
		return "failed"
	case VerdictTimeout:
		return "timed out"
	case VerdictError:
		return "could not be evaluated"
	case VerdictSkipped:
		return "was skipped"
	case VerdictInterrupted:
		return "was interrupted"
	}
	return oneLine(string(v), maxCell)
}

// Title is the human name of a cause, for headings.
func (c Cause) Title() string {
	switch c {
	case CauseConfigError:
		return "Bad configuration or environment variable"
	case CauseMissingSecret:
		return "Missing Secret"
	case CauseMissingSecretKey:
		return "Missing key in Secret"
	case CauseMissingConfigMap:
		return "Missing ConfigMap"
	case CauseMissingConfigMapKey:
		return "Missing key in ConfigMap"
	case CauseMissingStorageClass:
		return "Missing StorageClass"
	case CauseOOMKilled:
		return "Out of memory (OOMKilled)"
	case CauseDependency:
		return "Dependency unavailable"
	case CauseLivenessProbe:
		return "Liveness probe failing"
	case CauseReadinessProbe:
		return "Readiness probe failing"
	case CauseAppCrash:
		return "Application crash"
	case CauseInitContainer:
		return "Init container failing"
	case CauseImagePull:
		return "Image cannot be pulled"
	case CauseUnschedulable:
		return "Pods cannot be scheduled"
	case CauseNodePressure:
		return "Node under resource pressure"
	case CauseCreateDenied:
		return "Pod creation denied"
	case CauseJobDeadline:
		return "Job past its deadline"
	case CauseUnknown, "":
		return "Unknown cause"
	}
	return oneLine(string(c), maxCell)
}

// FirstFailing returns the first workload whose verdict fails the gate, or nil.
func (r *Report) FirstFailing() *Workload {
	for i := range r.Workloads {
		if r.Workloads[i].Verdict.Failing() {
			return &r.Workloads[i]
		}
	}
	return nil
}

// TopCause is the cause of the first finding of the first failing workload, "" if there is none.
// It is the `cause` output of the action.
func (r *Report) TopCause() Cause {
	if w := r.FirstFailing(); w != nil && len(w.Findings) > 0 {
		return w.Findings[0].Cause
	}
	return ""
}

// Headline is one plain line: the verdict, the workload and the cause, e.g.
// "deployment/api failed: key DB_PASSWORD missing from Secret production/api-db-credentials".
// It is safe to print (no control characters, no line breaks) but not escaped for Markdown.
func (r *Report) Headline() string {
	line := r.verdictHeadline()
	if note := r.overrideNote(); note != "" && r.Verdict != VerdictError {
		if r.Verdict == VerdictHealthy {
			return note + "; " + line
		}
		return line + "; " + note
	}
	return line
}

func (r *Report) verdictHeadline() string {
	switch r.Verdict {
	case VerdictError:
		if r.Message == "" {
			return "rollout-gate could not evaluate the rollout"
		}
		return "rollout-gate could not evaluate the rollout: " + oneLine(r.Message, maxProse)
	case VerdictHealthy:
		return healthyHeadline(r.Workloads)
	}
	w := r.FirstFailing()
	if w == nil {
		msg := "rollout " + r.Verdict.phrase()
		if r.Message != "" {
			msg += ": " + oneLine(r.Message, maxProse)
		}
		return msg
	}
	line := w.Headline()
	if n := countFailing(r.Workloads) - 1; n > 0 {
		line += fmt.Sprintf(" (and %d more %s)", n, Plural(n, "failing workload", "failing workloads"))
	}
	return line
}

// Headline is one plain line for one workload: "deployment/api failed: <why>". Like
// Report.Headline it is safe to print but not escaped for Markdown.
func (w *Workload) Headline() string {
	line := oneLine(w.Ref(), maxCell) + " " + w.Verdict.phrase()
	if w.Verdict == VerdictHealthy {
		return line
	}
	if why := w.why(); why != "" {
		line += ": " + why
	}
	return line
}

// why is the best single-line reason a workload is failing.
func (w *Workload) why() string {
	switch {
	case len(w.Findings) > 0 && w.Findings[0].Summary != "":
		return oneLine(w.Findings[0].Summary, maxCell)
	case w.Message != "":
		return oneLine(w.Message, maxCell)
	}
	return oneLine(w.Reason, maxCell)
}

func healthyHeadline(all []Workload) string {
	var ws []Workload // skipped kinds (a ConfigMap, a Service) did not roll out
	for _, w := range all {
		if w.Verdict != VerdictSkipped {
			ws = append(ws, w)
		}
	}
	switch len(ws) {
	case 0:
		return "no workloads to check; nothing to roll out"
	case 1, 2, 3:
		refs := make([]string, len(ws))
		for i := range ws {
			refs[i] = oneLine(ws[i].Ref(), maxCell)
		}
		return JoinAnd(refs) + " rolled out healthy"
	}
	return fmt.Sprintf("all %d workloads rolled out healthy", len(ws))
}

func countFailing(ws []Workload) int {
	n := 0
	for i := range ws {
		if ws[i].Verdict.Failing() {
			n++
		}
	}
	return n
}

func readyPods(w *Workload) (ready, total int) {
	for _, p := range w.Pods {
		if p.Ready {
			ready++
		}
	}
	return ready, len(w.Pods)
}

// rollbackLine says in words what a rollback did: "rolled back from revision 4 to revision 3,
// healthy again".
func rollbackLine(rb *Rollback) string {
	rev := ""
	from, to := oneLine(rb.FromRevision, maxCell), oneLine(rb.ToRevision, maxCell)
	switch {
	case from != "" && to != "":
		rev = " from revision " + from + " to revision " + to
	case to != "":
		rev = " to revision " + to
	}
	switch rb.Status {
	case RollbackRolledBack:
		return "rolled back" + rev + ", healthy again"
	case RollbackFailed:
		if rb.Undone {
			return "rolled back" + rev + ", but the workload is still failing"
		}
		return "rollback" + rev + " failed; the undo was not applied"
	case RollbackTimeout:
		return "rolled back" + rev + ", but it did not become healthy in time"
	case RollbackSkipped:
		return "rollback skipped"
	case RollbackRefused:
		return "rollback refused"
	case RollbackDryRun:
		return "would roll back" + rev + " (dry run, nothing changed)"
	}
	return "rollback " + oneLine(rb.Status, maxCell) + rev
}

// JoinAnd lists items as a sentence does: "a", "a and b", "a, b and c". The diagnosis writes
// its findings with it too, so the report reads as one voice.
func JoinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// Plural picks the word for n: Plural(1, "restart", "restarts").
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// human formats a duration for people: 42s, 3m5s, 850ms.
func human(d Duration) string {
	t := time.Duration(float64(d) * float64(time.Second))
	switch {
	case t <= 0:
		return "0s"
	case t < time.Second:
		return t.Round(time.Millisecond).String()
	case t < 10*time.Second:
		return t.Round(100 * time.Millisecond).String()
	}
	return t.Round(time.Second).String()
}

// offset formats t relative to the start of the run ("+1m12s"), or as a UTC clock time when the
// start is unknown.
func offset(start, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if start.IsZero() || t.Before(start) {
		return t.UTC().Format("15:04:05Z")
	}
	return "+" + t.Sub(start).Round(time.Second).String()
}

// rollbackSaid is a rollback said once, by the terminal report and the Markdown alike: words,
// what it did (rollbackLine), and message, what the gate's message adds. A rollback that ended
// healthy needs no message: the words say it all. An undone rollback's message is the gate's own
// whole account, beginning as the words do ("rolled back deployment prod/api from revision 5 to
// revision 4, but it is still failing: ..."), so it stands alone and words is empty.
func rollbackSaid(rb *Rollback) (words, message string) {
	switch {
	case rb.Status == RollbackRolledBack || rb.Message == "":
		return rollbackLine(rb), ""
	case rb.Undone:
		return "", rb.Message
	}
	return rollbackLine(rb), rb.Message
}

// FixCommands are finding f's fix commands as they stand once the workload's rollback is over,
// for every place that shows them (terminal, Markdown, annotations). The diagnosis writes them
// before any rollback; after an undo its "roll back to the previous revision" (kubectl rollout
// undo, with the comment that leads it in) would go back one revision further, so it gives way
// to a line that says the rollback was done and what is left to do. So does its "the kubelet
// retries on its own; watch the pods start" (RetryLeadIn, with the status command it leads in):
// the failed revision's pods are gone, nothing retries, and waiting would fix nothing. The JSON
// report keeps the diagnosis's own list; its rollback field says what was done.
func (w *Workload) FixCommands(f *Finding) []string {
	rb := w.Rollback
	if rb == nil || !rb.Undone {
		return f.Fix
	}
	out := make([]string, 0, len(f.Fix)+1)
	retried := false
	for i := 0; i < len(f.Fix); i++ {
		c := f.Fix[i]
		switch {
		case c == RetryLeadIn || c == RetryMountLeadIn:
			retried = true
			if i+1 < len(f.Fix) && strings.HasPrefix(strings.TrimSpace(f.Fix[i+1]), "kubectl rollout status ") {
				i++
			}
		case strings.HasPrefix(strings.TrimSpace(c), "kubectl rollout undo "):
			if n := len(out); n > 0 && out[n-1] == undoLeadIn {
				out = out[:n-1]
			}
		default:
			out = append(out, c)
		}
	}
	to := ""
	if isDigits(rb.ToRevision) {
		to = " to revision " + rb.ToRevision
	}
	done := "# the gate rolled this workload back" + to + " already"
	if retried {
		done += ", so the failed revision no longer runs and nothing retries on its own"
	}
	return append(out, done+": once the fix is in, deploy again (re-run the pipeline)")
}

// RetryLeadIn and RetryMountLeadIn are the comments the diagnosis puts before the status command
// where the kubelet retries by itself once the cause is fixed: true while the failed revision
// runs, and said otherwise after a rollback (FixCommands).
const (
	RetryLeadIn      = "# the kubelet retries on its own; watch the pods start:"
	RetryMountLeadIn = "# the kubelet retries the mount on its own; watch the pods start:"
)

// undoLeadIn is the comment the diagnosis puts before its undo command (diagnose's cmdUndo).
const undoLeadIn = "# or roll back to the previous revision:"

// isDigits: a revision number, safe to put in a shell comment.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
