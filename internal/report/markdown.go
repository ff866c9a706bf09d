package report

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GitHub's limits for the two places the Markdown goes.
const (
	CommentLimit = 65536   // characters in an issue or PR comment body
	SummaryLimit = 1 << 20 // bytes in one step's job summary
)

// MarkdownOptions shapes the Markdown for where it goes.
type MarkdownOptions struct {
	// Limit is the most bytes the result may have (CommentLimit, SummaryLimit); 0 means no limit.
	// Bytes are never fewer than characters, so a byte limit also holds GitHub's character limit.
	Limit int
	// Marker is a hidden line appended at the very end, e.g. Marker("production/api"); it is
	// kept intact however the body is truncated. Empty means no marker.
	Marker string
	// Notes are plain-text lines the publisher adds (annotations left out, a recovered failure);
	// they are escaped like any other text and shown under the headline.
	Notes []string
	// Run is what the report judged and where (commit, workflow run, job, environment); nil in
	// reports made outside GitHub Actions.
	Run *Run
}

// Marker returns the hidden sticky-comment marker for a comment key. The key is reduced to
// characters that cannot end an HTML comment, so any key gives a well-formed marker.
func Marker(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._/:,=+-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return "<!-- rollout-gate:" + b.String() + " -->"
}

const (
	compactLogLines  = 10
	compactRows      = 10
	maxLogLines      = 50
	maxEvidence      = 20
	maxTableRows     = 100
	maxTimeline      = 60
	foldChangesAbove = 8
)

// Markdown renders the report for the job summary and the PR comment, in the order a reviewer
// needs it, and says each thing once: the headline (verdict, workload, cause), what was judged
// (commit, run, job), the rollback, a table when there are several workloads, then for each
// workload that is not healthy the evidence, the fix and what the rollout changed, with the long
// parts (logs, pods, events, timeline) folded in <details>; the rollout diagram only for several
// workloads, after the fixes; a footer. All text from the cluster is neutralised (see
// sanitize.go and mermaid.go), and the result fits opts.Limit with the marker last.
func Markdown(r *Report, opts MarkdownOptions) string {
	full := mdWriter{logLines: maxLogLines, rows: maxTableRows}
	renderMarkdown(&full, r, opts)
	if opts.Limit <= 0 || full.fits(opts.Limit, opts.Marker) {
		return full.finish(opts.Limit, opts.Marker, false)
	}
	// Too long: first show less of everything (shorter log excerpts, fewer rows), so that every
	// finding and its fix still fit; only then cut at the end.
	compact := mdWriter{logLines: compactLogLines, rows: compactRows}
	renderMarkdown(&compact, r, opts)
	return compact.finish(opts.Limit, opts.Marker, true)
}

func renderMarkdown(m *mdWriter, r *Report, opts MarkdownOptions) {
	m.fallback = "## " + verdictEmoji(r.Verdict) + " rollout-gate verdict: " + mdText(string(r.Verdict), 40) + " (the report did not fit here)"
	m.line("## " + headlineEmoji(r) + " " + mdText(r.Headline(), maxProse))
	m.blank()
	if l := runLine(opts.Run); l != "" {
		m.line(l)
		m.blank()
	}
	for _, n := range opts.Notes {
		m.line("> [!NOTE]")
		m.line("> " + mdText(n, maxProse))
		m.blank()
	}
	rollbacks(m, r)
	several := len(r.Workloads) > 1
	if several {
		workloadTable(m, r)
		m.blank()
	}
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if w.Verdict == VerdictHealthy {
			continue
		}
		workloadSection(m, r, w, several)
	}
	if several {
		rolloutPicture(m, r, opts.Limit)
	}
	m.line(contextLine(r, opts.Run))
}

// rollbacks says whether a rollback happened and how it ended, the next thing to know after the
// verdict. It is said here only, once per workload: the duration, and the gate's message only
// when the rollback did not simply end healthy (then the message says why).
func rollbacks(m *mdWriter, r *Report) {
	var parts []string
	for i := range r.Workloads {
		rb := r.Workloads[i].Rollback
		if rb == nil || rb.Status == RollbackSkipped {
			continue
		}
		words, msg := rollbackSaid(rb)
		part := mdName(r.Workloads[i].Ref()) + " " + mdText(words, maxProse)
		if words == "" {
			part = mdText(msg, maxProse) // it names the workload itself
		}
		if rb.Duration > 0 {
			part += " (" + human(rb.Duration) + ")"
		}
		if words != "" && msg != "" {
			part += ": " + mdText(msg, maxProse)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 && r.RolledBack {
		parts = append(parts, "the gate rolled back the failed rollout")
	}
	if len(parts) > 0 {
		m.line("↩️ **Rollback:** " + strings.Join(parts, "; ") + ".")
		m.blank()
	}
}

// contextLine is the footer: the gate (and its version, when the publisher knows it), the
// namespace and context, how many workloads and how long it took.
func contextLine(r *Report, run *Run) string {
	var parts []string
	if r.Namespace != "" {
		parts = append(parts, "namespace "+mdName(r.Namespace))
	}
	if r.Context != "" {
		parts = append(parts, "context "+mdName(r.Context))
	}
	parts = append(parts, fmt.Sprintf("%d %s", len(r.Workloads), Plural(len(r.Workloads), "workload", "workloads")))
	if !r.StartedAt.IsZero() && r.FinishedAt.After(r.StartedAt) {
		parts = append(parts, "took "+human(Seconds(r.FinishedAt.Sub(r.StartedAt))))
	}
	gate := "rollout-gate"
	// The report names the gate that wrote it (GateVersion); a publisher's Run.Version, when
	// set, says it for the comment.
	version := r.GateVersion
	if run != nil && run.Version != "" {
		version = run.Version
	}
	if version != "" {
		gate += " " + mdText(version, maxCell)
	}
	return "<sub>" + gate + " · " + strings.Join(parts, " · ") + "</sub>"
}

func workloadTable(m *mdWriter, r *Report) {
	var anyCause, anyReason, anySource bool
	for i := range r.Workloads {
		w := &r.Workloads[i]
		anyCause = anyCause || len(w.Findings) > 0
		anyReason = anyReason || w.Reason != ""
		anySource = anySource || w.Source != nil
	}
	// Columns that would be empty for every workload are left out: a healthy report stays short.
	type column struct {
		show  bool
		title string
		cell  func(w *Workload) string
	}
	columns := []column{
		{true, "Workload", func(w *Workload) string { return mdName(w.Ref()) }},
		{true, "Verdict", func(w *Workload) string { return verdictEmoji(w.Verdict) + " " + mdText(string(w.Verdict), maxCell) }},
		{anyCause, "Cause", func(w *Workload) string {
			if len(w.Findings) == 0 {
				return ""
			}
			return mdName(string(w.Findings[0].Cause))
		}},
		{anyReason, "Reason", func(w *Workload) string { return mdText(w.Reason, maxCell) }},
		{true, "Ready pods", func(w *Workload) string {
			if ready, total := readyPods(w); total > 0 {
				return fmt.Sprintf("%d/%d", ready, total)
			}
			return ""
		}},
		{true, "Revision", func(w *Workload) string { return mdText(w.Revision, maxCell) }},
		{anySource, "Source", func(w *Workload) string {
			if w.Source == nil {
				return ""
			}
			return mdName(w.Source.String())
		}},
	}
	var titles []string
	for _, c := range columns {
		if c.show {
			titles = append(titles, c.title)
		}
	}
	m.line("| " + strings.Join(titles, " | ") + " |")
	m.line(strings.Repeat("| --- ", len(titles)) + "|")
	for i := range r.Workloads {
		if i == m.rows {
			m.line(fmt.Sprintf("| … %d more", len(r.Workloads)-i) + strings.Repeat(" |", len(titles)))
			break
		}
		var cells []string
		for _, c := range columns {
			if c.show {
				cells = append(cells, c.cell(&r.Workloads[i]))
			}
		}
		m.line("| " + strings.Join(cells, " | ") + " |")
	}
}

// rolloutPicture draws the rollout as a Mermaid diagram (see mermaid.go), or says in one line
// why it does not; the text timelines in the workload sections stay either way.
func rolloutPicture(m *mdWriter, r *Report, limit int) {
	d := rolloutDiagram(r, limit/diagramShare)
	switch {
	case d.lines != nil:
		m.line("**Rollout timeline** <sub>(times since the rollout began)</sub>")
		m.blank()
		fence := fenceFor(d.lines)
		m.atomic(append(append([]string{fence + "mermaid"}, d.lines...), fence))
		m.blank()
	case d.why != "":
		m.line("<sub>No timeline diagram: " + d.why + ". Each failing workload's timeline is in its section below.</sub>")
		m.blank()
	}
}

// workloadSection is one workload that is not healthy: the evidence, the fix and what changed,
// then the folded details. With one workload the headline has already named it and its
// verdict, so the section has no heading of its own and a line of facts takes the table's place.
func workloadSection(m *mdWriter, r *Report, w *Workload, several bool) {
	if several {
		m.line("### " + verdictEmoji(w.Verdict) + " " + mdName(w.Ref()) + " " + mdText(w.Verdict.phrase(), maxCell))
		m.blank()
	} else if facts := workloadFacts(w); facts != "" {
		m.line(facts)
		m.blank()
	}
	// The workload's message, unless the headline or the status line says it already.
	headlined := w == r.FirstFailing()
	said := func(msg string) bool {
		return headlined && oneLine(msg, maxCell) == w.why()
	}
	if w.Message != "" && len(w.Findings) == 0 && !said(w.Message) && (w.Status == nil || w.Status.Message != w.Message) {
		m.line(mdPara(w.Message, maxProse))
		m.blank()
	}
	for _, v := range w.View {
		m.line("- 📡 " + mdText(v, maxProse))
	}
	if len(w.View) > 0 {
		m.blank()
	}
	if rb := w.Rollback; rb != nil && len(rb.DeletedPods) > 0 {
		names := make([]string, 0, len(rb.DeletedPods))
		for _, p := range rb.DeletedPods {
			names = append(names, mdName(p))
		}
		m.line("Deleted stuck pods so the rollback could proceed: " + strings.Join(names, ", ") + ".")
		m.blank()
	}
	resourceStatus(m, w.Status, w.Status != nil && said(w.Status.Message))
	for i := range w.Findings {
		finding(m, w, &w.Findings[i], i+1, len(w.Findings), headlined && i == 0, len(w.Changes) > 0)
	}
	changes(m, w.Changes)
	if rb := w.Rollback; rb != nil {
		changeTable(m, fmt.Sprintf("What the rollback changed (%d)", len(rb.Changes)), "Failed revision", "Rolled back to", rb.Changes, true)
	}
	pods(m, w.Pods)
	events(m, w.Events)
	timeline(m, r, w.Timeline)
}

// workloadFacts is the one-workload report's line in place of the table: the revision, the
// ready pods, the reason and the manifest.
func workloadFacts(w *Workload) string {
	var parts []string
	if w.Revision != "" {
		parts = append(parts, "revision "+mdText(w.Revision, maxCell))
	}
	if ready, total := readyPods(w); total > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d pods ready", ready, total))
	}
	if w.Reason != "" {
		parts = append(parts, mdText(w.Reason, maxCell))
	}
	if w.Source != nil {
		parts = append(parts, mdName(w.Source.String()))
	}
	if len(parts) == 0 {
		return ""
	}
	return "<sub>" + mdName(w.Ref()) + " · " + strings.Join(parts, " · ") + "</sub>"
}

// finding is one cause: its name, the evidence, the fix, the log excerpt folded. headlined says
// the report's headline already carries its summary; changed that the table of what the
// rollout changed follows, so its change need not be said here as well.
func finding(m *mdWriter, w *Workload, f *Finding, n, of int, headlined, changed bool) {
	title := "#### "
	if of > 1 {
		title += strconv.Itoa(n) + ". "
	}
	title += mdText(f.Cause.Title(), maxCell) + " " + mdName(string(f.Cause))
	m.line(title)
	m.blank()
	var where []string
	if f.Pod != "" {
		where = append(where, "pod "+mdName(f.Pod))
	}
	if f.Container != "" {
		where = append(where, "container "+mdName(f.Container))
	}
	if f.Confidence != "" {
		where = append(where, mdText(string(f.Confidence), maxCell)+" confidence")
	}
	if f.Summary != "" && !headlined {
		m.line("**" + mdText(f.Summary, maxProse) + "**")
		m.blank()
	}
	if len(where) > 0 {
		m.line("<sub>" + strings.Join(where, " · ") + "</sub>")
		m.blank()
	}
	var evidence []string
	if f.Detail != "" {
		evidence = append(evidence, f.Detail)
	}
	if f.Change != "" && !changed {
		evidence = append(evidence, "Changed in this rollout: "+f.Change)
	}
	evidence = append(evidence, onceEach(f.Evidence)...)
	if len(evidence) > 0 {
		m.line("**Evidence**")
		m.blank()
		for i, e := range evidence {
			if i == maxEvidence {
				m.line(fmt.Sprintf("- … %d more (see the JSON report)", len(evidence)-i))
				break
			}
			m.line("- " + mdText(e, maxProse))
		}
		m.blank()
	}
	if e := f.Edit; e != nil {
		m.line("**Fix the manifest:** line " + strconv.Itoa(e.Line) + " of " + mdName(e.File) + " sets " + mdText(e.What, maxCell) +
			" to " + mdText(e.After, maxCell) + "; the revision before had " + mdText(e.Before, maxCell) + ".")
		m.blank()
		m.code("diff", []string{"-" + e.Old, "+" + e.New})
		m.blank()
	}
	if fix := w.FixCommands(f); len(fix) > 0 {
		if f.Edit != nil {
			m.line("**Or, in an emergency, in the cluster**")
		} else {
			m.line("**Fix**")
		}
		m.blank()
		m.code("sh", fix)
		m.blank()
	}
	if l := f.Logs; l != nil && len(l.Lines) > 0 {
		lines := l.Lines
		which := "container " + htmlText(l.Container)
		if l.Previous {
			which += ", previous (crashed) run"
		}
		count := fmt.Sprintf("last %d %s", len(lines), Plural(len(lines), "line", "lines"))
		if len(lines) > m.logLines {
			lines = lines[len(lines)-m.logLines:]
			count = fmt.Sprintf("last %d of %d lines", m.logLines, len(l.Lines))
		}
		m.open("<details><summary>Log excerpt: "+which+", "+count+"</summary>", "</details>")
		m.blank()
		m.code("text", lines)
		m.blank()
		m.close()
		m.blank()
	}
}

// onceEach drops an item of evidence that ends in the same words as an earlier one: the
// container's waiting message and the kubelet's event usually quote the same error, and the
// events stay in their folded table.
func onceEach(evidence []string) []string {
	tail := func(e string) string {
		if i := strings.LastIndex(e, ": "); i >= 0 && len(strings.Fields(e[i+2:])) >= 4 {
			return e[i+2:]
		}
		return ""
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range evidence {
		t := tail(e)
		if t != "" && seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, e)
	}
	return out
}

func changes(m *mdWriter, cs []Change) {
	changeTable(m, fmt.Sprintf("What this rollout changed (%d)", len(cs)), "Before", "After", cs, len(cs) > foldChangesAbove)
}

func changeTable(m *mdWriter, title, before, after string, cs []Change, fold bool) {
	if len(cs) == 0 {
		return
	}
	if fold {
		m.open("<details><summary>"+title+"</summary>", "</details>")
	} else {
		m.line("**" + strings.TrimSuffix(title, fmt.Sprintf(" (%d)", len(cs))) + "**")
	}
	m.blank()
	m.line("| Field | " + before + " | " + after + " |")
	m.line("| --- | --- | --- |")
	for i, c := range cs {
		if i == m.rows {
			m.line(fmt.Sprintf("| … %d more | | |", len(cs)-i))
			break
		}
		m.line("| " + mdText(c.Path, maxCell) + " | " + orUnset(c.Before) + " | " + orUnset(c.After) + " |")
	}
	m.blank()
	if fold {
		m.close()
		m.blank()
	}
}

func orUnset(s string) string {
	if s == "" {
		return "*(unset)*"
	}
	return mdText(s, maxCell)
}

// resourceStatus shows the kstatus status of an object judged by its status, and its conditions
// (the controller's words: escaped, never live Markdown).
func resourceStatus(m *mdWriter, st *ResourceStatus, saidMessage bool) {
	if st == nil {
		return
	}
	line := "**Status (kstatus):** " + mdText(st.Status, maxCell)
	if st.Message != "" && !saidMessage {
		line += " — " + mdText(st.Message, maxProse)
	}
	m.line(line)
	m.blank()
	if len(st.Conditions) == 0 {
		return
	}
	m.line("| Condition | Status | Reason | Message |")
	m.line("| --- | --- | --- | --- |")
	for i, c := range st.Conditions {
		if i == m.rows {
			m.line(fmt.Sprintf("| … %d more | | | |", len(st.Conditions)-i))
			break
		}
		m.line("| " + strings.Join([]string{mdText(c.Type, maxCell), mdText(c.Status, maxCell),
			mdText(c.Reason, maxCell), mdText(c.Message, maxCell)}, " | ") + " |")
	}
	m.blank()
}

func pods(m *mdWriter, ps []Pod) {
	if len(ps) == 0 {
		return
	}
	m.open(fmt.Sprintf("<details><summary>Pods (%d)</summary>", len(ps)), "</details>")
	m.blank()
	m.line("| Pod | Phase | Ready | Reason | Node | Containers |")
	m.line("| --- | --- | --- | --- | --- | --- |")
	for i := range ps {
		if i == m.rows {
			m.line(fmt.Sprintf("| … %d more | | | | | |", len(ps)-i))
			break
		}
		p := &ps[i]
		var cs []string
		for _, c := range p.Containers {
			cs = append(cs, containerState(c, mdText))
		}
		m.line("| " + strings.Join([]string{mdName(p.Name), mdText(p.Phase, maxCell), yesNo(p.Ready),
			mdText(p.Reason, maxCell), mdText(p.Node, maxCell), strings.Join(cs, "<br>")}, " | ") + " |")
	}
	m.blank()
	m.close()
	m.blank()
}

// containerState says "api: waiting CrashLoopBackOff, 5 restarts, last exit 137 (OOMKilled)".
// esc escapes untrusted parts for the output format.
func containerState(c Container, esc func(string, int) string) string {
	s := esc(c.Name, maxCell)
	if c.Init {
		s += " (init)"
	}
	s += ": " + esc(c.State, maxCell)
	if c.Reason != "" {
		s += " " + esc(c.Reason, maxCell)
	}
	if c.RestartCount > 0 {
		s += fmt.Sprintf(", %d %s", c.RestartCount, Plural(int(c.RestartCount), "restart", "restarts"))
	}
	if t := c.LastState; t != nil {
		s += fmt.Sprintf(", last exit %d", t.ExitCode)
		if t.Reason != "" {
			s += " " + esc(t.Reason, maxCell)
		}
		if t.Meaning != "" {
			s += " (" + esc(t.Meaning, maxCell) + ")"
		}
	}
	return s
}

func events(m *mdWriter, es []Event) {
	if len(es) == 0 {
		return
	}
	warnings := 0
	for _, e := range es {
		if e.Type == "Warning" {
			warnings++
		}
	}
	m.open(fmt.Sprintf("<details><summary>Events (%d, %d %s)</summary>", len(es), warnings, Plural(warnings, "warning", "warnings")), "</details>")
	m.blank()
	m.line("| Type | Reason | Object | Count | Message |")
	m.line("| --- | --- | --- | --- | --- |")
	for i, e := range es {
		if i == m.rows {
			m.line(fmt.Sprintf("| … %d more | | | | |", len(es)-i))
			break
		}
		count := ""
		if e.Count > 0 {
			count = "×" + strconv.Itoa(int(e.Count))
		}
		m.line("| " + strings.Join([]string{mdText(e.Type, maxCell), mdText(e.Reason, maxCell), mdName(e.Object),
			count, mdText(e.Message, maxCell)}, " | ") + " |")
	}
	m.blank()
	m.close()
	m.blank()
}

func timeline(m *mdWriter, r *Report, ms []Moment) {
	if len(ms) == 0 {
		return
	}
	m.open(fmt.Sprintf("<details><summary>Timeline (%d)</summary>", len(ms)), "</details>")
	m.blank()
	for i, t := range ms {
		if i == min(m.rows, maxTimeline) {
			m.line(fmt.Sprintf("- … %d more", len(ms)-i))
			break
		}
		at := offset(r.StartedAt, t.At)
		if at != "" {
			at = "`" + at + "` "
		}
		m.line("- " + at + mdText(t.What, maxProse))
	}
	m.blank()
	m.close()
	m.blank()
}

func verdictEmoji(v Verdict) string {
	switch v {
	case VerdictHealthy:
		return "✅"
	case VerdictFailed:
		return "❌"
	case VerdictTimeout:
		return "⏱️"
	case VerdictError:
		return "⚠️"
	case VerdictSkipped:
		return "⏭️"
	case VerdictInterrupted:
		return "⏹️"
	}
	return "❔"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// mdWriter builds Markdown line by line and remembers, after every line, how to close whatever is
// open there (a code fence, a <details>). That makes truncation safe: the body can be cut after
// any line and closed properly, so a truncated comment never leaves a block open and the marker
// always lands outside every block.
type mdWriter struct {
	logLines, rows int    // how much of long lists to show
	fallback       string // the whole body when nothing else fits

	b       strings.Builder
	closers []string
	cuts    []cutPoint
}

type cutPoint struct {
	at     int
	closer string
}

func (m *mdWriter) line(s string) {
	m.b.WriteString(s)
	m.b.WriteByte('\n')
	var c strings.Builder
	for i := len(m.closers) - 1; i >= 0; i-- {
		c.WriteString(m.closers[i])
	}
	m.cuts = append(m.cuts, cutPoint{at: m.b.Len(), closer: c.String()})
}

// blank writes an empty line unless the text already ends with one.
func (m *mdWriter) blank() {
	if s := m.b.String(); len(s) == 0 || strings.HasSuffix(s, "\n\n") {
		return
	}
	m.line("")
}

// open writes an opening line and remembers the line that closes it.
func (m *mdWriter) open(line, closeLine string) {
	m.line(line)
	m.closers = append(m.closers, "\n"+closeLine+"\n")
	m.cuts[len(m.cuts)-1].closer = m.closerNow()
}

func (m *mdWriter) closerNow() string {
	var c strings.Builder
	for i := len(m.closers) - 1; i >= 0; i-- {
		c.WriteString(m.closers[i])
	}
	return c.String()
}

func (m *mdWriter) close() {
	c := m.closers[len(m.closers)-1]
	m.closers = m.closers[:len(m.closers)-1]
	m.line(strings.TrimPrefix(strings.TrimSuffix(c, "\n"), "\n"))
}

// atomic writes lines that must stay whole, such as a diagram, which does not render when cut:
// the body may be cut before them or after them, never inside.
func (m *mdWriter) atomic(lines []string) {
	for _, l := range lines {
		m.b.WriteString(l)
		m.b.WriteByte('\n')
	}
	m.cuts = append(m.cuts, cutPoint{at: m.b.Len(), closer: m.closerNow()})
}

// code writes a fenced code block of untrusted lines.
func (m *mdWriter) code(lang string, lines []string) {
	lines = codeLines(lines)
	fence := fenceFor(lines)
	m.line(fence + lang)
	m.closers = append(m.closers, fence+"\n")
	m.cuts[len(m.cuts)-1].closer = m.closerNow()
	for _, l := range lines {
		m.line(l)
	}
	m.closers = m.closers[:len(m.closers)-1]
	m.line(fence)
}

func (m *mdWriter) body() string { return strings.TrimRight(m.b.String(), "\n") + "\n" }

func markerTail(marker string) string {
	if marker == "" {
		return ""
	}
	return "\n" + marker + "\n"
}

func (m *mdWriter) fits(limit int, marker string) bool {
	return len(m.body())+len(markerTail(marker)) <= limit
}

// finish returns the body with the marker. If it is too long (or shortened says an earlier,
// fuller rendering was), it is cut at the last line after which the open blocks can be closed and
// the truncation note and the marker still fit in limit bytes.
func (m *mdWriter) finish(limit int, marker string, shortened bool) string {
	body, tail := m.body(), markerTail(marker)
	if limit <= 0 || (!shortened && len(body)+len(tail) <= limit) {
		return body + tail
	}
	for i := len(m.cuts) - 1; i >= -1; i-- {
		at, closer := 0, ""
		if i >= 0 {
			at, closer = min(m.cuts[i].at, len(body)), m.cuts[i].closer
		}
		if at+len(closer)+len(tail) > limit {
			continue
		}
		what := "log excerpts and long lists were shortened"
		if at < len(body) {
			what += fmt.Sprintf(", and the last %d bytes left out", len(body)-at)
		}
		note := fmt.Sprintf("\n> [!WARNING]\n> Truncated to fit GitHub's limit of %d characters here: %s. "+
			"The JSON report has everything.\n", limit, what)
		if at+len(closer)+len(note)+len(tail) <= limit {
			return body[:at] + closer + note + tail
		}
	}
	// Not even the note fits: a line of our own (no untrusted text to cut in the middle of an
	// escape), on a rune boundary, and the marker.
	room := max(0, limit-len(tail)-len("…\n"))
	head := m.fallback
	if len(head) > room {
		i := room
		for i > 0 && !utf8.RuneStart(head[i]) {
			i--
		}
		head = head[:i] + "…"
	}
	return head + "\n" + tail
}
