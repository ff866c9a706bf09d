package report

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions shapes the terminal report.
type TextOptions struct {
	// Color adds ANSI colours. The caller decides: a TTY and no NO_COLOR.
	Color bool
}

const maxTextLine = 500

// Text writes the report for a person at a terminal: the verdict line first, then for each
// workload its verdict and reason, its pods, each finding (cause, summary, detail, evidence, log
// excerpt, fix, change), what the rollout changed, the warning events and the rollback. Text from
// the cluster has its control characters removed, so a log line cannot drive the terminal; inside
// GitHub Actions, wrap the output with github.StopCommands.
func Text(w io.Writer, r *Report, opts TextOptions) error {
	t := &textWriter{w: w, color: opts.Color}
	t.printf("%s %s\n", t.verdict(r.Verdict), t.bold(r.Headline()))
	var meta []string
	if r.Namespace != "" {
		meta = append(meta, "namespace "+oneLine(r.Namespace, maxCell))
	}
	if r.Context != "" {
		meta = append(meta, "context "+oneLine(r.Context, maxCell))
	}
	if !r.StartedAt.IsZero() && r.FinishedAt.After(r.StartedAt) {
		meta = append(meta, "took "+human(Seconds(r.FinishedAt.Sub(r.StartedAt))))
	}
	if r.RolledBack {
		meta = append(meta, "rolled back")
	}
	if len(meta) > 0 {
		t.printf("  %s\n", t.dim(strings.Join(meta, " · ")))
	}
	for i := range r.Workloads {
		t.workload(r, &r.Workloads[i])
	}
	return t.err
}

type textWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *textWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (t *textWriter) bold(s string) string { return t.paint("1", s) }
func (t *textWriter) dim(s string) string  { return t.paint("2", s) }

func (t *textWriter) verdict(v Verdict) string {
	word := strings.ToUpper(oneLine(string(v), maxCell))
	switch v {
	case VerdictHealthy:
		return t.paint("1;32", word)
	case VerdictFailed, VerdictError:
		return t.paint("1;31", word)
	case VerdictTimeout, VerdictInterrupted:
		return t.paint("1;33", word)
	}
	return t.paint("1", word)
}

func (t *textWriter) workload(r *Report, w *Workload) {
	t.printf("\n%s %s", t.bold(oneLine(w.Ref(), maxCell)), t.verdict(w.Verdict))
	if w.Reason != "" {
		t.printf(" %s", oneLine(w.Reason, maxCell))
	}
	var meta []string
	if w.Namespace != "" && w.Namespace != r.Namespace {
		meta = append(meta, "namespace "+oneLine(w.Namespace, maxCell))
	}
	if w.Revision != "" {
		meta = append(meta, "revision "+oneLine(w.Revision, maxCell))
	}
	if w.Source != nil {
		meta = append(meta, oneLine(w.Source.String(), maxCell))
	}
	if w.Duration > 0 {
		meta = append(meta, human(w.Duration))
	}
	if len(meta) > 0 {
		t.printf(" %s", t.dim("("+strings.Join(meta, ", ")+")"))
	}
	t.printf("\n")
	if w.Message != "" {
		t.printf("  %s\n", oneLine(w.Message, maxTextLine))
	}
	for _, v := range w.View {
		t.printf("  %s\n", t.dim(oneLine(v, maxTextLine)))
	}
	if rb := w.Rollback; rb != nil {
		words, msg := rollbackSaid(rb)
		line := words
		switch {
		case words == "":
			line = oneLine(msg, maxTextLine)
			if rb.Duration > 0 {
				line += " (" + human(rb.Duration) + ")"
			}
		case rb.Duration > 0:
			line += " in " + human(rb.Duration)
		}
		if words != "" && msg != "" {
			line += ": " + oneLine(msg, maxTextLine)
		}
		t.printf("  %s %s\n", t.paint("1;35", "rollback:"), line)
		for _, p := range rb.DeletedPods {
			t.printf("    deleted stuck pod %s\n", oneLine(p, maxCell))
		}
		for _, c := range rb.Changes {
			t.printf("    %s: %s → %s\n", oneLine(c.Path, maxCell), unset(c.Before), unset(c.After))
		}
	}
	if st := w.Status; st != nil && w.Verdict != VerdictHealthy {
		line := "status " + oneLine(st.Status, maxCell)
		if st.Message != "" {
			line += ": " + oneLine(st.Message, maxTextLine)
		}
		t.printf("  %s\n", line)
		for _, c := range st.Conditions {
			t.printf("    %s\n", oneLine(conditionLine(c), maxTextLine))
		}
	}
	if w.Verdict == VerdictHealthy {
		return
	}
	if len(w.Pods) > 0 {
		ready, total := readyPods(w)
		t.printf("  pods (%d/%d ready):\n", ready, total)
		for i, p := range w.Pods {
			if i == maxTableRows {
				t.printf("    … %d more\n", len(w.Pods)-i)
				break
			}
			line := oneLine(p.Name, maxCell) + "  " + oneLine(p.Phase, maxCell)
			if p.Reason != "" {
				line += "  " + oneLine(p.Reason, maxCell)
			}
			if p.Node != "" {
				line += "  " + t.dim("on "+oneLine(p.Node, maxCell))
			}
			t.printf("    %s\n", line)
			for _, c := range p.Containers {
				t.printf("      %s\n", containerState(c, oneLine))
			}
		}
	}
	for i := range w.Findings {
		t.finding(w, &w.Findings[i], i+1)
	}
	if len(w.Changes) > 0 {
		t.printf("  %s\n", t.bold("what this rollout changed:"))
		for _, c := range w.Changes {
			t.printf("    %s: %s → %s\n", oneLine(c.Path, maxCell), unset(c.Before), unset(c.After))
		}
	}
	var warnings []Event
	for _, e := range w.Events {
		if e.Type != "Normal" {
			warnings = append(warnings, e)
		}
	}
	if len(warnings) > 0 {
		t.printf("  %s\n", t.bold("warning events:"))
		for _, e := range warnings {
			count := ""
			if e.Count > 1 {
				count = fmt.Sprintf(" (x%d)", e.Count)
			}
			t.printf("    %s %s%s: %s\n", oneLine(e.Reason, maxCell), oneLine(e.Object, maxCell), count, oneLine(e.Message, maxTextLine))
		}
	}
}

func unset(s string) string {
	if s == "" {
		return "(unset)"
	}
	return oneLine(s, maxCell)
}

func (t *textWriter) finding(w *Workload, f *Finding, n int) {
	head := fmt.Sprintf("cause %d: %s", n, oneLine(string(f.Cause), maxCell))
	if f.Cause == "" {
		head = fmt.Sprintf("cause %d: %s", n, CauseUnknown)
	}
	var where []string
	if f.Pod != "" {
		where = append(where, "pod "+oneLine(f.Pod, maxCell))
	}
	if f.Container != "" {
		where = append(where, "container "+oneLine(f.Container, maxCell))
	}
	if f.Confidence != "" {
		where = append(where, oneLine(string(f.Confidence), maxCell)+" confidence")
	}
	t.printf("  %s", t.paint("1;31", head))
	if len(where) > 0 {
		t.printf(" %s", t.dim("("+strings.Join(where, ", ")+")"))
	}
	t.printf("\n")
	if f.Summary != "" {
		t.printf("    %s\n", t.bold(oneLine(f.Summary, maxTextLine)))
	}
	if f.Detail != "" {
		t.printf("    %s\n", oneLine(f.Detail, maxTextLine))
	}
	if f.Change != "" {
		t.printf("    changed in this rollout: %s\n", oneLine(f.Change, maxTextLine))
	}
	if len(f.Evidence) > 0 {
		t.printf("    evidence:\n")
		for _, e := range f.Evidence {
			t.printf("      - %s\n", oneLine(e, maxTextLine))
		}
	}
	if l := f.Logs; l != nil && len(l.Lines) > 0 {
		which := "container " + oneLine(l.Container, maxCell)
		if l.Previous {
			which += ", previous run"
		}
		lines := l.Lines
		if len(lines) > maxLogLines {
			lines = lines[len(lines)-maxLogLines:]
			which += fmt.Sprintf(", last %d of %d lines", maxLogLines, len(l.Lines))
		}
		t.printf("    logs (%s):\n", which)
		for _, line := range lines {
			for _, part := range strings.Split(clean(line), "\n") {
				t.printf("      %s %s\n", t.dim("│"), cut(strings.ReplaceAll(part, "\t", "    "), maxTextLine))
			}
		}
	}
	if fix := w.FixCommands(f); len(fix) > 0 {
		t.printf("    %s\n", t.bold("fix:"))
		for _, c := range fix {
			for _, part := range strings.Split(clean(c), "\n") {
				if strings.HasPrefix(strings.TrimSpace(part), "#") {
					t.printf("      %s\n", t.dim(part))
				} else {
					t.printf("      %s\n", t.paint("36", part))
				}
			}
		}
	}
}

// conditionLine is one condition in words: "Ready=False Provisioning: disk not attached".
func conditionLine(c Condition) string {
	line := c.Type + "=" + c.Status
	if c.Reason != "" {
		line += " " + c.Reason
	}
	if c.Message != "" {
		line += ": " + c.Message
	}
	return line
}
