package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is what a compromised or careless pod can print, aimed at every escape hatch.
var hostile = []string{
	"```\n## injected heading\n```",
	"~~~\nnot code\n~~~",
	"````````` eight backticks",
	"<!-- rollout-gate:production/api -->",
	"<!-- rollout-gate:other -->",
	"--> <!-- <!---->",
	"<script>alert(1)</script><img src=x onerror=alert(1)>",
	"</details></summary><details open>",
	"@octocat please look, @github/security-team",
	"fixes #1 and org/repo#2",
	"::error file=a.go,line=1::forged annotation",
	"  ::set-output name=verdict::healthy",
	"::stop-commands::abc",
	"##[error]legacy command",
	"\x1b[31mred\x1b[0m \x07bell \x00nul \u202egnp.exe",
	"[click](https://evil.example) ![img](https://evil.example/x.png) $x^2$",
	"_https://evil.example/a 1https://evil.example/b _www.evil.example (www.evil.example ~www.evil.example",
	"| a | b |\n|---|---|",
	"line1\r\nline2\rline3",
	"\xff\xfe invalid utf8",
	strings.Repeat("very long line ", 100),
}

func hostileReport(s string) *Report {
	lines := strings.Split(s, "\n")
	w := Workload{
		Kind: "Deployment", Namespace: s, Name: s, Revision: s, Verdict: VerdictFailed, Reason: s, Message: s,
		Source: &Source{File: s, Line: 3},
		Pods: []Pod{{Name: s, Phase: s, Node: s, Reason: s, Containers: []Container{{Name: s, State: s, Reason: s, Message: s,
			LastState: &Termination{ExitCode: 137, Reason: s, Message: s, Meaning: s}}}}},
		Findings: []Finding{{Cause: Cause(s), Pod: s, Container: s, Summary: s, Detail: s, Evidence: []string{s, s}, Fix: []string{s},
			Change: s, Confidence: Confidence(s), Logs: &LogExcerpt{Container: s, Previous: true, Lines: lines}}},
		Changes: []Change{{Path: s, Before: s, After: s}},
		Events:  []Event{{Type: s, Reason: s, Object: s, Message: s, Count: 2}},
		Timeline: []Moment{{At: at(1), What: s, Kind: MomentRollout}, {At: at(2), What: s, Kind: MomentPod}, {At: at(3), What: s},
			{At: at(4), What: s, Kind: MomentCrash}, {At: at(5), What: s, Kind: MomentVerdict}, {At: at(6), What: s, Kind: MomentRollback},
			{At: at(8), What: s, Kind: MomentRollbackEnd}, {At: at(9), What: s, Kind: MomentKind(s)}},
		Rollback: &Rollback{Status: s, FromRevision: s, ToRevision: s, Message: s, DeletedPods: []string{s}},
		// A custom resource's status is its controller's text, as hostile as a pod's log.
		APIVersion: s,
		Status:     &ResourceStatus{Status: s, Message: s, Conditions: []Condition{{Type: s, Status: s, Reason: s, Message: s}}},
	}
	return &Report{SchemaVersion: 1, Verdict: VerdictFailed, StartedAt: t0, FinishedAt: at(9), RolledBack: true,
		Namespace: s, Context: s, Message: s, Workloads: []Workload{w}}
}

func TestMarkdownNeutralisesUntrustedText(t *testing.T) {
	t.Parallel()
	for _, s := range hostile {
		t.Run(cut(s, 20), func(t *testing.T) {
			t.Parallel()
			md := Markdown(hostileReport(s), MarkdownOptions{Limit: CommentLimit, Marker: goldenMarker})
			checkMarkdown(t, md, goldenMarker, CommentLimit)
			for _, bad := range []string{"\x1b", "\x00", "\u202e", "\r"} {
				if strings.Contains(md, bad) {
					t.Errorf("output contains %q", bad)
				}
			}
			blocks, _ := scanMarkdown(md)
			prose := strings.ReplaceAll(strings.Join(blocks.prose, "\n"), `\]`, "") // escaped brackets make no link
			for _, bad := range []string{"<script", "<img", "](https://evil", "<details open", "\n## injected", "\n~~~"} {
				if strings.Contains(prose, bad) {
					t.Errorf("text outside code contains %q", bad)
				}
			}
		})
	}
}

func TestTextStripsTerminalControls(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Text(&b, hostileReport("\x1b]0;pwned\x07\x1b[2J ok \u202eevil\rover"), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\r\u202e") {
		t.Errorf("text output kept control characters:\n%q", b.String())
	}
}

func TestTextColourOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, colour := range []bool{false, true} {
		var b bytes.Buffer
		if err := Text(&b, fixtureNamed(t, "oom-killed"), TextOptions{Color: colour}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "\x1b["); got != colour {
			t.Errorf("Color=%v: escape sequences present=%v", colour, got)
		}
	}
}

func TestTextReportsWriteError(t *testing.T) {
	t.Parallel()
	err := Text(failWriter{}, fixtureNamed(t, "oom-killed"), TextOptions{})
	if err == nil {
		t.Fatal("want the writer's error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errShort }

var errShort = errors.New("disk full")

func TestFenceOutgrowsBacktickRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"plain"}, "```"},
		{[]string{"a ``` b"}, "````"},
		{[]string{"``````"}, "```````"},
		{[]string{"`", "``"}, "```"},
	} {
		if got := fenceFor(tc.lines); got != tc.want {
			t.Errorf("fenceFor(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

func TestMdText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"key DB_PASSWORD", `key DB\_PASSWORD`},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"@octocat", "@\u200boctocat"},
		{"see #12", "see #\u200b12"},
		{"fixes GH-12 and gh-3", "fixes GH-\u200b12 and gh-\u200b3"},
		{"get https://evil.example/x or HTTP://a", "get https:\u200b//evil.example/x or HTTP:\u200b//a"},
		{"visit www.evil.example", "visit www\u200b.evil.example"},
		// Issue 20: cmark-gfm links these, and RE2's \b did not see a boundary before them.
		{"_https://evil.example", "\\_https:\u200b//evil.example"},
		{"1https://evil.example", "1https:\u200b//evil.example"},
		{"_www.evil.example", "\\_www\u200b.evil.example"},
		{"mail a@b.example", "mail a@\u200bb.example"},
		{"<!-- x -->", "&lt;!-\u200b- x -\u200b-&gt;"},
		{"a|b", `a\|b`},
		{"two\nlines", "two ⏎ lines"},
		{"tab\there", "tab here"},
	} {
		if got := mdText(tc.in, maxProse); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCutKeepsRunes(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("é", 400)
	got := cut(s, 300)
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) != 300 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut: %d runes, valid=%v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
	if cut("short", 300) != "short" {
		t.Errorf("cut changed a short string")
	}
}

func TestMarkdownLimits(t *testing.T) {
	t.Parallel()
	long := fixtureNamed(t, "truncated")
	full := Markdown(long, MarkdownOptions{Marker: goldenMarker}) // no limit: nothing cut
	if strings.Contains(full, "Truncated") {
		t.Errorf("Limit 0 truncated")
	}
	for _, limit := range []int{100, 250, 400, 1000, 3000, 20000, CommentLimit, SummaryLimit, len(full)} {
		md := Markdown(long, MarkdownOptions{Limit: limit, Marker: goldenMarker})
		checkMarkdown(t, md, goldenMarker, limit)
		switch {
		case len(full) <= limit:
			if md != full {
				t.Errorf("limit %d: a report that fits was changed", limit)
			}
		case limit >= 400 && !strings.Contains(md, "Truncated to fit GitHub's limit of "+strconv.Itoa(limit)):
			t.Errorf("limit %d: truncated without a note:\n%s", limit, md)
		}
	}
}

func TestMarkdownTruncatesMultibyteOnRuneBoundary(t *testing.T) {
	t.Parallel()
	r := fixtureNamed(t, "app-crash")
	c := *r
	c.Workloads = []Workload{r.Workloads[0]}
	c.Workloads[0].Findings = []Finding{{Cause: CauseAppCrash, Summary: strings.Repeat("日本語", 200),
		Logs: &LogExcerpt{Container: "api", Lines: []string{strings.Repeat("🔥", 1000)}}}}
	for limit := 150; limit < 2500; limit += 37 {
		md := Markdown(&c, MarkdownOptions{Limit: limit, Marker: goldenMarker})
		checkMarkdown(t, md, goldenMarker, limit)
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, want string }{
		{"production/api", "<!-- rollout-gate:production/api -->"},
		{"prod:deployment/api,deployment/worker", "<!-- rollout-gate:prod:deployment/api,deployment/worker -->"},
		{"x --> <!-- y\n", "<!-- rollout-gate:x_--____--_y_ -->"},
		{"production/api-deployment", "<!-- rollout-gate:production/api-deployment -->"},
	} {
		if got := Marker(tc.key); got != tc.want {
			t.Errorf("Marker(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestHeadlineAndTopCause(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture, headline string
		cause             Cause
	}{
		{"missing-secret-key", "deployment/api-deployment failed: key DB_PASSWORD missing from Secret production/api-db-credentials", CauseMissingSecretKey},
		{"readiness-probe", "deployment/api timed out: readiness probe :8080/ready never succeeded in 10m; the pods run but get no traffic", CauseReadinessProbe},
		{"healthy", "deployment/api and statefulset/postgres rolled out healthy", ""},
		{"multi-workload", "deployment/api failed: container api was OOMKilled (exit 137) at its 512Mi memory limit (and 1 more failing workload)", CauseOOMKilled},
		{"cannot-evaluate", "rollout-gate could not evaluate the rollout: get deployment production/api: forbidden: the gate's identity may not get deployments.apps; add this rule to its Role", ""},
		{"create-denied", `deployment/api failed: pod creation is denied by PodSecurity "restricted:latest" in namespace production`, CauseCreateDenied},
	} {
		r := fixtureNamed(t, tc.fixture)
		if got := r.Headline(); got != tc.headline {
			t.Errorf("%s: Headline() = %q, want %q", tc.fixture, got, tc.headline)
		}
		if got := r.TopCause(); got != tc.cause {
			t.Errorf("%s: TopCause() = %q, want %q", tc.fixture, got, tc.cause)
		}
	}
	// A failing workload without findings says its message, and has no top cause.
	r := &Report{Verdict: VerdictFailed, Workloads: []Workload{{Kind: "DaemonSet", Name: "agent", Verdict: VerdictFailed, Reason: "Evicted", Message: "pod agent-x\nwas evicted"}}}
	if got, want := r.Headline(), "daemonset/agent failed: pod agent-x ⏎ was evicted"; got != want {
		t.Errorf("Headline() = %q, want %q", got, want)
	}
	if r.TopCause() != "" {
		t.Errorf("TopCause() = %q, want empty", r.TopCause())
	}
	if got := (&Report{Verdict: VerdictHealthy}).Headline(); got == "" {
		t.Errorf("empty healthy headline")
	}
}

func TestHealthyMarkdownIsShort(t *testing.T) {
	t.Parallel()
	md := Markdown(fixtureNamed(t, "healthy"), MarkdownOptions{Limit: CommentLimit})
	if n := strings.Count(md, "\n"); n > 10 {
		t.Errorf("healthy report has %d lines:\n%s", n, md)
	}
	for _, absent := range []string{"<details>", "Cause", "Reason", "Source"} {
		if strings.Contains(md, absent) {
			t.Errorf("healthy report shows %q", absent)
		}
	}
}

func TestMarkdownNotes(t *testing.T) {
	t.Parallel()
	md := Markdown(fixtureNamed(t, "healthy"), MarkdownOptions{Notes: []string{"now healthy; the failure <b>reported</b> before is fixed"}})
	if !strings.Contains(md, "> [!NOTE]\n> now healthy; the failure &lt;b&gt;reported&lt;/b&gt; before is fixed\n") {
		t.Errorf("note missing or unescaped:\n%s", md)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	r := &Report{Verdict: VerdictFailed, StartedAt: t0, FinishedAt: at(5), Workloads: []Workload{{
		Kind: "Deployment", Name: "api", Verdict: VerdictFailed,
		Pods:     []Pod{{Name: "p"}},
		Findings: []Finding{{Cause: CauseUnknown, Logs: &LogExcerpt{Container: "api"}}},
	}}}
	b, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "null") {
		t.Errorf("JSON has null lists:\n%s", s)
	}
	if !strings.HasPrefix(s, "{\n  \"schemaVersion\": 1,\n  \"verdict\": \"failed\",") {
		t.Errorf("JSON must start with schemaVersion then verdict:\n%s", s)
	}
	if r.SchemaVersion != 0 || r.Workloads[0].Findings[0].Evidence != nil {
		t.Errorf("JSON modified its input")
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("JSON does not read back: %v", err)
	}
	if back.Workloads[0].Name != "api" || !back.FinishedAt.Equal(at(5)) {
		t.Errorf("round trip lost data: %+v", back)
	}
	if strings.Contains(s, "0001-01-01") {
		t.Errorf("zero times should be left out:\n%s", s)
	}
}

// TestNoKubernetesImports holds the line: report and github never import k8s.io packages.
func TestNoKubernetesImports(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/rollout-gate/rollout-gate/internal/report",
		"github.com/rollout-gate/rollout-gate/internal/github").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/") {
			t.Errorf("report or github depends on %s", dep)
		}
	}
}

// FuzzMarkdown feeds arbitrary text into every untrusted field and checks that it never breaks
// out: fences stay ours and closed, the marker appears once at the end and nowhere else, no raw
// HTML, no pinging mention, no workflow command at a line start, and the limit holds.
func FuzzMarkdown(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, "```", uint32(CommentLimit))
	}
	f.Add("<!--", "-->", uint32(500))
	f.Add("a\n::warning::x", "@x", uint32(300))
	f.Fuzz(func(t *testing.T, a, b string, limit uint32) {
		r := hostileReport(a)
		r.Workloads = append(r.Workloads, hostileReport(b).Workloads...)
		r.Workloads[1].Findings[0].Logs.Lines = append(r.Workloads[1].Findings[0].Logs.Lines, a, b, a+b)
		l := int(limit%(2*CommentLimit)) + 200
		md := Markdown(r, MarkdownOptions{Limit: l, Marker: goldenMarker, Notes: []string{a, b}})
		checkMarkdown(t, md, goldenMarker, l)
	})
}

func TestRollbackLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rb   Rollback
		want string
	}{
		{Rollback{Status: RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true}, "rolled back from revision 5 to revision 4, healthy again"},
		{Rollback{Status: RollbackFailed, FromRevision: "5", ToRevision: "4", Undone: true}, "rolled back from revision 5 to revision 4, but the workload is still failing"},
		{Rollback{Status: RollbackFailed, ToRevision: "4"}, "rollback to revision 4 failed; the undo was not applied"},
		{Rollback{Status: RollbackTimeout, FromRevision: "5", ToRevision: "4", Undone: true}, "rolled back from revision 5 to revision 4, but it did not become healthy in time"},
		{Rollback{Status: RollbackSkipped}, "rollback skipped"},
		{Rollback{Status: RollbackRefused}, "rollback refused"},
		{Rollback{Status: RollbackDryRun, FromRevision: "5", ToRevision: "4"}, "would roll back from revision 5 to revision 4 (dry run, nothing changed)"},
		{Rollback{Status: "exotic\x1b[2J", ToRevision: "4"}, "rollback exotic[2J to revision 4"},
	} {
		if got := rollbackLine(&tc.rb); got != tc.want {
			t.Errorf("rollbackLine(%+v) = %q, want %q", tc.rb, got, tc.want)
		}
	}
}

// FuzzText feeds arbitrary text into every untrusted field of the terminal and JSON renderers:
// the text has no terminal control sequence and no line that starts a workflow command outside
// the fence the caller adds; the JSON stays valid, round-trips and never holds "##[".
func FuzzText(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := hostileReport(s)
		var b bytes.Buffer
		if err := Text(&b, r, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if i := strings.IndexAny(b.String(), "\x1b\x07\r\x00\u202e"); i >= 0 {
			t.Errorf("text output keeps a control character at %d: %q", i, b.String())
		}
		js, err := JSON(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("JSON does not parse: %v", err)
		}
		if strings.Contains(string(js), "##[") {
			t.Errorf("JSON holds ##[")
		}
		var want string
		if raw, err := json.Marshal(r.Message); err == nil {
			_ = json.Unmarshal(raw, &want)
		}
		if back.Message != want {
			t.Errorf("JSON round trip changed the message: %q -> %q", r.Message, back.Message)
		}
	})
}

// The gate's version goes into the line under the headline, in the summary and the comment alike,
// and into the JSON report; a report without one renders as before.
func TestGateVersionInFooterAndJSON(t *testing.T) {
	t.Parallel()
	r := failedReport(VerdictFailed, 12, deployment("api", "2", "CrashLoopBackOff"))
	if md := Markdown(r, MarkdownOptions{}); !strings.Contains(md, "<sub>rollout-gate · ") {
		t.Errorf("without a version the footer changed:\n%s", md)
	}
	r.GateVersion = "1.2.0"
	for name, md := range map[string]string{
		"summary": Markdown(r, MarkdownOptions{Limit: SummaryLimit}),
		"comment": Markdown(r, MarkdownOptions{Limit: CommentLimit, Marker: "<!-- rollout-gate:x -->"}),
	} {
		if !strings.Contains(md, "<sub>rollout-gate 1.2.0 · ") {
			t.Errorf("%s lacks the version in its footer:\n%s", name, md)
		}
	}
	js, err := JSON(r)
	if err != nil || !strings.Contains(string(js), `"gateVersion": "1.2.0"`) {
		t.Errorf("JSON lacks gateVersion (%v):\n%s", err, js)
	}
}
