package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The rollout diagram is a Mermaid sequence diagram, which GitHub renders in comments and job
// summaries. rollout-gate has the left lane and each workload a lane of its own: notes on a
// workload's lane for its milestones (rollout began, pods created, crashes), arrows for the
// verdict it gives the gate, the rollback the gate starts and how that ended. Time runs down the
// page and every label starts with the time since the rollout began (+3.2s).
//
// A sequence diagram rather than a gantt chart: a gantt chart needs dates (its axis is drawn in
// the reader's time zone) and piles up the labels of moments close in time, which is most of a
// crash loop; a sequence diagram keeps every label readable and in order.
//
// Cluster text (names, revisions, reasons, moments) is hostile here too. It reaches the diagram
// only through mermaidText, which keeps letters, digits, spaces and ._-/+(),= and nothing that
// Mermaid or Markdown reads as syntax: no newline or ; (statement ends), # (comments, entity
// codes), % (%% comments and directives), : (label starts), backticks (our fence), < > & " (HTML),
// { } [ ] $ (shapes, maths). Every statement keyword is ours and starts its line, so no text can
// add a statement of its own: the diagram never has click, link or links.

// Bounds of the diagram. Past them the report shows no diagram and says why; each failing
// workload keeps its text timeline in its section.
const (
	// maxDiagramLanes workloads side by side still read at a comment's width.
	maxDiagramLanes = 6
	// maxDiagramSteps notes and arrows, after runs of pod creations and of crashes are merged.
	maxDiagramSteps = 40
	// maxDiagramLabel runes of cluster text in one label.
	maxDiagramLabel = 60
	// diagramShare: the diagram may take at most 1/diagramShare of the size limit (8 KiB of a
	// comment; 6 lanes and 40 steps with the longest ASCII labels take about 6 KiB).
	diagramShare = 8
)

// diagram is the Mermaid source of the rollout diagram (without the fence), or why there is none.
type diagram struct {
	lines []string
	// why says why a diagram that was due is left out; "" with no lines means none was due (a
	// healthy rollout, or no milestones recorded).
	why string
}

// diagramLane is one workload's lane: its participant id and its milestones in order.
type diagramLane struct {
	id      string
	w       *Workload
	moments []Moment
}

type diagramStep struct {
	at   time.Time
	line string
}

// rolloutDiagram draws the rollouts of a failed (or rolled back) run; budget is the most bytes
// it may take, 0 for no limit.
func rolloutDiagram(r *Report, budget int) diagram {
	if r.FirstFailing() == nil && !r.RolledBack {
		return diagram{}
	}
	var lanes []diagramLane
	var start time.Time
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if w.Verdict == VerdictSkipped {
			continue
		}
		var ms []Moment
		for _, m := range w.Timeline {
			if m.Kind != "" && !m.At.IsZero() {
				ms = append(ms, m)
				if start.IsZero() || m.At.Before(start) {
					start = m.At
				}
			}
		}
		if len(ms) == 0 {
			continue
		}
		slices.SortStableFunc(ms, func(a, b Moment) int { return a.At.Compare(b.At) })
		lanes = append(lanes, diagramLane{id: "w" + strconv.Itoa(len(lanes)+1), w: w, moments: ms})
	}
	switch {
	case len(lanes) == 0:
		return diagram{}
	case len(lanes) > maxDiagramLanes:
		return diagram{why: fmt.Sprintf("%d workloads are more than the %d a diagram shows side by side", len(lanes), maxDiagramLanes)}
	}

	var steps []diagramStep
	for _, l := range lanes {
		steps = append(steps, laneSteps(l, start)...)
	}
	if len(steps) > maxDiagramSteps {
		return diagram{why: fmt.Sprintf("its %d steps are more than the %d a diagram shows", len(steps), maxDiagramSteps)}
	}
	slices.SortStableFunc(steps, func(a, b diagramStep) int { return a.at.Compare(b.at) })

	lines := []string{"sequenceDiagram", "    participant gate as rollout-gate"}
	for _, l := range lanes {
		label := l.w.Ref()
		if r.Namespace == "" && l.w.Namespace != "" {
			label += " in " + l.w.Namespace
		}
		lines = append(lines, "    participant "+l.id+" as "+mermaidText(label, maxDiagramLabel))
	}
	for _, s := range steps {
		lines = append(lines, s.line)
	}
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	if budget > 0 && size > budget {
		return diagram{why: fmt.Sprintf("it would take %d bytes, more than the %d it may have here", size, budget)}
	}
	return diagram{lines: lines}
}

// laneSteps turns one lane's milestones into notes and arrows. A run of pod creations, or of
// crashes, with nothing else of the lane's in between becomes one step.
func laneSteps(l diagramLane, start time.Time) []diagramStep {
	note := func(at time.Time, text string) diagramStep {
		return diagramStep{at, "    Note over " + l.id + ": " + text}
	}
	toGate := func(at time.Time, text string) diagramStep {
		// A solid arrow back, too: the dotted one, -->>, holds "-->", which no output may have.
		return diagramStep{at, "    " + l.id + "->>gate: " + text}
	}
	var steps []diagramStep
	ms := l.moments
	for i := 0; i < len(ms); {
		m := ms[i]
		n := 1
		if m.Kind == MomentPod || m.Kind == MomentCrash {
			for i+n < len(ms) && ms[i+n].Kind == m.Kind {
				n++
			}
		}
		last := ms[i+n-1]
		when := sinceStart(start, m.At)
		if n > 1 {
			when += " to " + sinceStart(start, last.At)
		}
		switch m.Kind {
		case MomentRollout:
			steps = append(steps, note(m.At, when+" "+mermaidText(m.What, maxDiagramLabel)))
		case MomentPod:
			if n == 1 {
				steps = append(steps, note(m.At, when+" "+mermaidText(m.What, maxDiagramLabel)))
			} else {
				steps = append(steps, note(m.At, fmt.Sprintf("%s, %d pods created", when, n)))
			}
		case MomentCrash:
			what := " 💥 crash"
			if n > 1 {
				what = fmt.Sprintf(", 💥 %d crashes, the last one", n)
			}
			steps = append(steps, note(m.At, when+what+"<br/>"+mermaidText(last.What, maxDiagramLabel)))
		case MomentVerdict:
			text := verdictEmoji(l.w.Verdict) + " " + mermaidText(l.w.Verdict.phrase(), maxCell)
			if l.w.Reason != "" && l.w.Verdict != VerdictHealthy {
				text += ", " + mermaidText(l.w.Reason, maxDiagramLabel)
			}
			steps = append(steps, toGate(m.At, when+" "+text))
		case MomentRollback:
			text := "↩️ roll back"
			if rb := l.w.Rollback; rb != nil && rb.ToRevision != "" {
				text += " to revision " + mermaidText(rb.ToRevision, maxDiagramLabel)
			}
			steps = append(steps, diagramStep{m.At, "    gate->>" + l.id + ": " + when + " " + text})
		case MomentRollbackEnd:
			steps = append(steps, toGate(m.At, when+" "+rollbackEnd(l.w.Rollback)))
		default:
			steps = append(steps, note(m.At, when+" "+mermaidText(m.What, maxDiagramLabel)))
		}
		i += n
	}
	return steps
}

// rollbackEnd says in a few words how a rollback ended.
func rollbackEnd(rb *Rollback) string {
	switch {
	case rb == nil:
		return "rollback ended"
	case rb.Status == RollbackRolledBack:
		return "✅ healthy again"
	case rb.Status == RollbackTimeout:
		return "⏱️ not healthy in time"
	case rb.Status == RollbackFailed && rb.Undone:
		return "❌ still failing"
	case rb.Status == RollbackFailed:
		return "⚠️ rollback failed"
	}
	return "rollback " + mermaidText(rb.Status, maxCell)
}

// sinceStart formats how long after start t was: +3.2s under a minute, +1m12s after.
func sinceStart(start, t time.Time) string {
	d := max(t.Sub(start), 0)
	if d < time.Minute {
		return fmt.Sprintf("+%.1fs", d.Seconds())
	}
	return "+" + d.Round(time.Second).String()
}

// mermaidText renders untrusted text for a Mermaid label: one line of at most n runes, made of
// letters, digits, spaces and ._-/+(),= only. A colon becomes a comma (it reads the same), an
// ellipsis three dots, anything else an underscore.
func mermaidText(s string, n int) string {
	s = oneLine(s, n)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ._-/+(),=", r)):
			b.WriteRune(r)
		case r == ':':
			b.WriteByte(',')
		case r == '…':
			b.WriteString("...")
		case r > unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteByte('_')
		}
	}
	return cmp.Or(strings.TrimSpace(b.String()), "_")
}
