package report

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMermaidText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"deployment/api-v2.1", "deployment/api-v2.1"},
		{"terminated: exit 137 (OOMKilled)", "terminated, exit 137 (OOMKilled)"},
		{"a;b#c%%d", "a_b_c__d"},
		{"x\nNote over gate: forged", "x _ Note over gate, forged"},
		{"```\nclick w1 call alert()", "___ _ click w1 call alert()"},
		{"%%{init: {'theme':'dark'}}%%", "___init, __theme_,_dark_____"},
		{"<img src=x onerror=alert(1)>", "_img src=x onerror=alert(1)_"},
		{"#35; #quot; &lt;", "_35_ _quot_ _lt_"},
		{"$$x^2$$ [a](b) {c}", "__x_2__ _a_(b) _c_"},
		{"wrap:long text", "wrap,long text"},
		{"ünïcödé 名前 ٣", "ünïcödé 名前 ٣"},
		{"\u202eevil\x1b[31m", "evil_31m"},
		{"", "_"},
		{";;;", "___"},
		{strings.Repeat("a", 100), strings.Repeat("a", 59) + "..."},
	} {
		if got := mermaidText(tc.in, 60); got != tc.want {
			t.Errorf("mermaidText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSinceStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "+0.0s"}, {3240 * time.Millisecond, "+3.2s"}, {59940 * time.Millisecond, "+59.9s"},
		{time.Minute, "+1m0s"}, {72400 * time.Millisecond, "+1m12s"}, {-time.Second, "+0.0s"},
	} {
		if got := sinceStart(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("sinceStart(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// lanesReport is a failed run of n workloads, each with k pods that crash one after the other:
// pod creations and crashes alternate, so none merge, and each workload has 2+2k steps.
func lanesReport(n, k int) *Report {
	var ws []Workload
	for i := range n {
		w := deployment(fmt.Sprintf("svc-%d", i), "2", "CrashLoopBackOff")
		w.Timeline = []Moment{{At: atMs(10 * i), What: "rollout of revision 2 began", Kind: MomentRollout}}
		for j := range k {
			w.Timeline = append(w.Timeline,
				Moment{At: atMs(1000 * (j + 1)), What: fmt.Sprintf("pod svc-%d-%d created", i, j), Kind: MomentPod},
				Moment{At: atMs(1000*(j+1) + 300), What: "container app started"},
				Moment{At: atMs(1000*(j+1) + 500), What: "container app terminated: exit 1", Kind: MomentCrash})
		}
		w.Timeline = append(w.Timeline, Moment{At: at(100), What: "verdict: failed", Kind: MomentVerdict})
		ws = append(ws, w)
	}
	return failedReport(VerdictFailed, 100, ws...)
}

func TestRolloutDiagramBounds(t *testing.T) {
	t.Parallel()
	healthy := fixtureNamed(t, "healthy")
	healthy.Workloads[0].Timeline = []Moment{{At: t0, What: "rollout of revision 25 began", Kind: MomentRollout}}
	noKinds := fixtureNamed(t, "app-crash")
	withSkipped := lanesReport(6, 1)
	withSkipped.Workloads = append(withSkipped.Workloads, Workload{Kind: "ConfigMap", Name: "settings", Verdict: VerdictSkipped,
		Timeline: []Moment{{At: t0, What: "x", Kind: MomentRollout}}})
	for _, tc := range []struct {
		name      string
		r         *Report
		budget    int
		wantLanes int    // 0: no diagram
		wantWhy   string // in the reason there is none
	}{
		{"healthy run: no diagram due", healthy, 0, 0, ""},
		{"no milestones recorded: no diagram due", noKinds, 0, 0, ""},
		{"one lane", lanesReport(1, 1), 0, 1, ""},
		{"six lanes", lanesReport(6, 1), 0, 6, ""},
		{"skipped workloads have no lane", withSkipped, 0, 6, ""},
		{"seven lanes", lanesReport(7, 1), 0, 0, "7 workloads are more than the 6"},
		{"too many steps", lanesReport(2, 10), 0, 0, "its 44 steps are more than the 40"},
		{"forty steps", lanesReport(2, 9), 0, 2, ""},
		{"over the budget", lanesReport(2, 1), 200, 0, "more than the 200 it may have here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := rolloutDiagram(tc.r, tc.budget)
			if lanes := strings.Count(strings.Join(d.lines, "\n"), "participant w"); lanes != tc.wantLanes {
				t.Errorf("%d lanes, want %d:\n%s", lanes, tc.wantLanes, strings.Join(d.lines, "\n"))
			}
			if tc.wantWhy == "" && d.why != "" || !strings.Contains(d.why, tc.wantWhy) {
				t.Errorf("why %q, want %q", d.why, tc.wantWhy)
			}
			if d.lines != nil {
				if err := checkMermaid(d.lines); err != nil {
					t.Error(err)
				}
			}
			// In a comment, the budget is an eighth of the comment's limit, and the picture is
			// drawn only for several workloads: one workload's report says it all in words.
			want := rolloutDiagram(tc.r, CommentLimit/diagramShare)
			if len(tc.r.Workloads) < 2 {
				want = diagram{}
			}
			md := Markdown(tc.r, MarkdownOptions{Limit: CommentLimit})
			if got := strings.Contains(md, "```mermaid"); got != (want.lines != nil) {
				t.Errorf("Markdown has a mermaid block: %v, want %v", got, want.lines != nil)
			}
			if got := strings.Contains(md, "No timeline diagram: "+want.why); got != (want.why != "") {
				t.Errorf("Markdown says why there is no diagram: %v, want %v", got, want.why != "")
			}
		})
	}
}

// TestRolloutDiagramMergesRuns: a run of pod creations or crashes in one lane is one step, even
// with other lanes' steps in between; a crash between pod creations splits them.
func TestRolloutDiagramMergesRuns(t *testing.T) {
	t.Parallel()
	a := deployment("a", "1", "CrashLoopBackOff")
	a.Timeline = []Moment{
		{At: atMs(0), What: "pod a-1 created", Kind: MomentPod},
		{At: atMs(100), What: "pod a-2 created", Kind: MomentPod},
		{At: atMs(2000), What: "container x terminated: exit 2", Kind: MomentCrash},
		{At: atMs(3000), What: "pod a-3 created", Kind: MomentPod},
		{At: atMs(4000), What: "container x terminated: exit 3", Kind: MomentCrash},
		{At: atMs(5000), What: "container x terminated: exit 4", Kind: MomentCrash},
	}
	b := deployment("b", "1", "CrashLoopBackOff")
	b.Timeline = []Moment{{At: atMs(50), What: "pod b-1 created", Kind: MomentPod}, {At: atMs(4500), What: "pod b-2 created", Kind: MomentPod}}
	d := rolloutDiagram(failedReport(VerdictFailed, 9, a, b), 0)
	got := strings.Join(d.lines[4:], "\n")
	want := strings.Join([]string{
		"    Note over w1: +0.0s to +0.1s, 2 pods created",
		"    Note over w2: +0.1s to +4.5s, 2 pods created",
		"    Note over w1: +2.0s 💥 crash<br/>container x terminated, exit 2",
		"    Note over w1: +3.0s pod a-3 created",
		"    Note over w1: +4.0s to +5.0s, 💥 2 crashes, the last one<br/>container x terminated, exit 4",
	}, "\n")
	if got != want {
		t.Errorf("steps:\n%s\nwant:\n%s", got, want)
	}
}

// TestMarkdownKeepsDiagramWhole: however the body is cut to fit a limit, the diagram is all
// there or not there at all (half a diagram would not render).
func TestMarkdownKeepsDiagramWhole(t *testing.T) {
	t.Parallel()
	// The writer: a block written with atomic has no cut point inside.
	block := []string{"```mermaid", "sequenceDiagram", "    participant gate as rollout-gate", "```"}
	for limit := 1; limit < 400; limit++ {
		m := mdWriter{fallback: "fallback"}
		for i := range 5 {
			m.line(fmt.Sprintf("line %d before", i))
		}
		m.atomic(block)
		for i := range 5 {
			m.line(fmt.Sprintf("line %d after", i))
		}
		out := m.finish(limit, "", false)
		if strings.Contains(out, block[0]) != strings.Contains(out, strings.Join(block, "\n")+"\n") {
			t.Fatalf("limit %d cut the block:\n%s", limit, out)
		}
	}

	// The report: a rolled back rollout with long log excerpts, cut at many limits.
	r := fixtureNamed(t, "rollout-diagram")
	long := fixtureNamed(t, "truncated").Workloads[0].Findings
	r.Workloads[0].Findings = append(r.Workloads[0].Findings, long...)
	whole := "```mermaid\n" + strings.Join(rolloutDiagram(r, 0).lines, "\n") + "\n```\n"
	seen := map[bool]bool{}
	for limit := 1000; limit <= 3*CommentLimit; limit += 1013 {
		md := Markdown(r, MarkdownOptions{Limit: limit, Marker: goldenMarker})
		checkMarkdown(t, md, goldenMarker, limit)
		has := strings.Contains(md, "```mermaid")
		seen[has] = true
		if has && !strings.Contains(md, whole) {
			t.Fatalf("limit %d: the diagram is not whole:\n%s", limit, md)
		}
		// The picture comes after the fixes, so a cut at the end may leave it out, never half.
		if !has && limit >= diagramShare*len(whole) && !strings.Contains(md, "Truncated to fit") {
			t.Errorf("limit %d: no diagram, though it takes only %d bytes and nothing was cut", limit, len(whole))
		}
	}
	if !seen[true] || !seen[false] {
		t.Errorf("the limits tried did not both keep and leave out the diagram: %v", seen)
	}
}

// FuzzMermaidText: whatever the cluster says, a label part is one line in the safe alphabet.
func FuzzMermaidText(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("a\u2028b\u0085c%%{init}%%#35;")
	f.Fuzz(func(t *testing.T, s string) {
		got := mermaidText(s, maxDiagramLabel)
		if !mermaidLabel.MatchString(got) || strings.ContainsAny(got, "💥✅❌⏱⏹↩⚠❔\ufe0f") {
			t.Errorf("mermaidText(%q) = %q, outside the safe alphabet", s, got)
		}
		if n := len([]rune(got)); n > maxDiagramLabel+2 {
			t.Errorf("mermaidText(%q) has %d runes", s, n)
		}
	})
}
