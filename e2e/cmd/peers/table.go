package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/rollout-gate/rollout-gate/e2e/internal/benchstat"
)

// machine is where and how the bench ran, for the heading of its table.
type machine struct {
	date     time.Time
	cores    int
	cpu      string
	memory   string
	load     string // 1-minute load average when the run started: the node is shared
	server   string // Kubernetes version of the cluster
	timeout  time.Duration
	parallel int
}

// Markers of the bench's section in the output file: the bench rewrites what lies between them
// and leaves the rest of the file (other benches, notes written by hand) alone.
const (
	sectionBegin = "<!-- bench-peers:begin (written by make bench-peers) -->"
	sectionEnd   = "<!-- bench-peers:end -->"
)

// markdown renders the run: the heading facts, one row per scenario with one cell per tool, and
// a per-tool summary. Every cell is built from the bench's own words, numbers and the fixed
// reason tokens of tools.go.
func markdown(m machine, tools []tool, rows []row) string {
	var b strings.Builder
	host := fmt.Sprintf("%d cores", m.cores)
	if m.cpu != "" {
		host += " (" + m.cpu + ")"
	}
	if m.memory != "" {
		host += ", " + m.memory + " RAM"
	}
	if m.load != "" {
		host += ", load average " + m.load + " at the start"
	}
	fmt.Fprintf(&b, "Run on %s UTC, on %s, against a one-node local cluster (Kubernetes %s); timeout %s for every tool, %d scenarios at a time, the four tools of a scenario at the same moment.\n\n",
		m.date.Format("2006-01-02 15:04"), host, m.server, m.timeout, m.parallel)
	fmt.Fprintf(&b, "Versions: %s.\n\n", joinTools(tools))

	b.WriteString("| Scenario | Right answer |")
	for _, t := range tools {
		b.WriteString(" " + t.name + " |")
	}
	b.WriteString("\n|---|---|")
	for range tools {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		want := "fail"
		if r.sc.healthy {
			want = "pass"
		}
		fmt.Fprintf(&b, "| `%s`: %s | %s |", r.sc.name, r.sc.title, want)
		for i := range tools {
			if i >= len(r.outcomes) {
				b.WriteString(" not run |")
				continue
			}
			b.WriteString(" " + cell(r.outcomes[i], r.sc.healthy) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEach cell: result · exit code · verdict · seconds from apply to exit. A false pass is exit 0 on a broken rollout; a false alarm is a non-zero exit on a good one; `timeout` means the tool only gave up at the timeout.\n\n")

	b.WriteString("| Tool | Right | False pass | False alarm | Failures caught before the timeout | Median time to a caught failure |\n|---|---|---|---|---|---|\n")
	for i, t := range tools {
		s := summarize(rows, i, m.timeout)
		median := "–"
		if len(s.caught) > 0 {
			median = fmt.Sprintf("%.1f s", benchstat.Median(s.caught).Seconds())
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %d | %d | %d/%d | %s |\n", t.name, s.right, s.runs, s.falsePass, s.falseAlarm, len(s.caught), s.broken, median)
	}
	return b.String()
}

func cell(o outcome, healthy bool) string {
	res := o.result(healthy)
	if res != "right" {
		res = "**" + res + "**"
	}
	return fmt.Sprintf("%s · %d · %s · %.1f", res, o.exit, o.verdict, o.elapsed.Seconds())
}

// summary is one tool's record over the run.
type summary struct {
	runs, right, falsePass, falseAlarm int
	broken                             int             // broken scenarios it ran
	caught                             []time.Duration // apply → exit of broken rollouts it failed before the timeout
}

func summarize(rows []row, i int, timeout time.Duration) summary {
	var s summary
	for _, r := range rows {
		if i >= len(r.outcomes) {
			continue
		}
		o := r.outcomes[i]
		s.runs++
		switch o.result(r.sc.healthy) {
		case "right":
			s.right++
		case "false pass":
			s.falsePass++
		case "false alarm":
			s.falseAlarm++
		}
		if !r.sc.healthy {
			s.broken++
			if o.exit > 0 && o.elapsed < timeout-time.Second {
				s.caught = append(s.caught, o.elapsed)
			}
		}
	}
	return s
}

// writeSection puts content between the bench's markers in file path: in place of what was
// there, or appended (after a heading) when the file or the markers do not exist yet.
func writeSection(path, content string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	out, err := splice(string(old), content)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func splice(doc, content string) (string, error) {
	section := sectionBegin + "\n" + strings.TrimRight(content, "\n") + "\n" + sectionEnd
	i, j := strings.Index(doc, sectionBegin), strings.Index(doc, sectionEnd)
	switch {
	case i < 0 && j < 0:
		if doc == "" {
			doc = "# Benchmarks\n"
		}
		return strings.TrimRight(doc, "\n") + "\n\n## Peers side by side\n\n" + section + "\n", nil
	case i < 0 || j < i:
		return "", errors.New("the bench-peers markers are broken (one is missing, or they are out of order): fix them by hand")
	}
	return doc[:i] + section + doc[j+len(sectionEnd):], nil
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}
