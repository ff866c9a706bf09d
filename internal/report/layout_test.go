package report

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// demoReport is the report of `make demo SCENARIO=missing-secret` (a real run's JSON report),
// the example the README shows.
func demoReport(t *testing.T) *Report {
	t.Helper()
	b, err := os.ReadFile("testdata/demo-missing-secret.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("demo report: %v", err)
	}
	return &r
}

// visibleLines counts the lines a reader sees without unfolding anything: the non-blank lines
// of the Markdown outside <details> blocks and hidden comments, each a rendered line (a
// paragraph, a heading, a list item, a table row, a line of a code block). aboveFold is the
// same count up to the first <details>.
func visibleLines(md string) (visible, aboveFold int) {
	depth, folded := 0, false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "<details>"):
			depth++
			folded = true
			continue
		case strings.HasPrefix(l, "</details>"):
			depth--
			continue
		}
		if depth > 0 || strings.TrimSpace(l) == "" || strings.HasPrefix(l, "<!--") {
			continue
		}
		visible++
		if !folded {
			aboveFold++
		}
	}
	return visible, aboveFold
}

// lineBudget is the most lines a one-workload comment may show above its first fold: the
// headline, what was judged, the rollback, the evidence, the fix and what changed fit in it.
const lineBudget = 40

// demoRun is what a comment made by a workflow run says it judged.
var demoRun = &Run{Commit: "6dcb09b5b57875f334f61aebed695e2e4193db5e", CommitURL: "https://github.com/octo/shop/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
	URL: "https://github.com/octo/shop/actions/runs/4242/attempts/2", RunID: "4242", Attempt: "2", Job: "deploy", Environment: "production"}

// TestCommentGolden holds the comment's layout: one workload failed and rolled back (the demo),
// several workloads, and a healthy run after a failure; each within the line budget and
// without a sentence said twice.
func TestCommentGolden(t *testing.T) {
	recovered := fixtureNamed(t, "healthy")
	for _, tc := range []struct {
		name  string
		r     *Report
		notes []string
	}{
		{"comment-rolled-back", demoReport(t), nil},
		{"comment-several", fixtureNamed(t, "multi-workload"), nil},
		{"comment-recovered", recovered, []string{"Fixed by commit 6dcb09b: the rollout is healthy again. This comment reported a failure at commit 0a1b2c3 before."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := Markdown(tc.r, MarkdownOptions{Limit: CommentLimit, Marker: goldenMarker, Notes: tc.notes, Run: demoRun})
			golden(t, tc.name+".md", []byte(md))
			checkMarkdown(t, withoutRunLine(t, md, demoRun), goldenMarker, CommentLimit)
			if _, above := visibleLines(md); above > lineBudget {
				t.Errorf("%d lines above the first fold, more than the budget of %d", above, lineBudget)
			}
			if dup := repeated(md); dup != "" {
				t.Errorf("said twice: %q", dup)
			}
		})
	}
}

// TestLayoutBudget: every one-workload report of the fixtures keeps its evidence, fix and
// changes within the budget, and no report says a sentence twice outside its folds.
func TestLayoutBudget(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		md := Markdown(fx.r, MarkdownOptions{Limit: CommentLimit, Run: demoRun})
		if _, above := visibleLines(md); len(fx.r.Workloads) == 1 && above > lineBudget {
			t.Errorf("%s: %d lines above the first fold, more than the budget of %d", fx.name, above, lineBudget)
		}
		if dup := repeated(md); dup != "" && fx.name != "truncated" { // truncated: one finding copied, to fill the limit
			t.Errorf("%s: said twice: %q\n%s", fx.name, dup, md)
		}
	}
}

// TestRepeatedCatchesTheOldLayout: the check finds what the issue found in the old comment.
func TestRepeatedCatchesTheOldLayout(t *testing.T) {
	t.Parallel()
	old := "## ❌ deployment/shop-api failed: Secret x does not exist, so container api cannot start\n\n" +
		"↩️ **Rollback:** `deployment/shop-api` rolled back from revision 2 to revision 1, healthy again.\n\n" +
		"↩️ **Rollback:** rolled back from revision 2 to revision 1, healthy again (10s).\n\n" +
		"**Secret x does not exist, so container api cannot start**\n"
	if dup := repeated(old); dup == "" {
		t.Errorf("no repetition found in:\n%s", old)
	}
	if dup := repeated("## a b c d e\n\n<details><summary>x</summary>\n\na b c d e\n\n</details>\n"); dup != "" {
		t.Errorf("folded details count as repeated: %q", dup)
	}
}

// withoutRunLine drops the line runLine wrote (our own links to the commit and the run, tested
// in TestRunLine) so that checkMarkdown can hold the rest to "no link from the cluster".
func withoutRunLine(t *testing.T, md string, run *Run) string {
	t.Helper()
	l := runLine(run)
	if !strings.Contains(md, "\n"+l+"\n") {
		t.Fatalf("no run line %q in:\n%s", l, md)
	}
	return strings.Replace(md, "\n"+l+"\n", "\n", 1)
}

// repeated returns a sentence (of five words or more) that the Markdown's prose says twice
// outside its folds, code blocks and tables, "" if none; each workload's section of a report on
// several is its own scope (two workloads may fail alike). Headings, paragraphs, list items and
// the parts of a line between ". ", "; " and ": " are sentences here.
func repeated(md string) string {
	seen := map[string]bool{}
	depth, fence := 0, ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case fence != "":
			if strings.HasPrefix(l, fence) {
				fence = ""
			}
			continue
		case strings.HasPrefix(l, "```"):
			fence = l[:strings.LastIndex(l, "`")+1]
			continue
		case strings.HasPrefix(l, "<details>"):
			depth++
			continue
		case strings.HasPrefix(l, "</details>"):
			depth--
			continue
		case strings.HasPrefix(l, "### "):
			seen = map[string]bool{} // another workload's section: its own words may be the same
		}
		// Tables are data (pods, events, conditions, changes), and a <sub> line is facts, not prose.
		if depth > 0 || strings.HasPrefix(l, "<!--") || strings.HasPrefix(l, "|") || strings.HasPrefix(l, "<sub>") {
			continue
		}
		for _, s := range sentences(l) {
			if len(strings.Fields(s)) < 5 {
				continue
			}
			if seen[s] {
				return s
			}
			seen[s] = true
		}
	}
	return ""
}

func sentences(line string) []string {
	line = strings.NewReplacer(`\`, "", "**", "", "`", "", "<sub>", "", "</sub>", "", "↩️", "", "❌", "", "✅", "", "#", "").Replace(line)
	var out []string
	for _, part := range regexp.MustCompile(`[.;:] |[.;:]$`).Split(line, -1) {
		part = strings.ToLower(strings.Join(strings.Fields(strings.Trim(part, " -.>*")), " "))
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func TestRunLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		run  *Run
		want string
	}{
		{"all", demoRun, "<sub>commit [`6dcb09b`](https://github.com/octo/shop/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e) · " +
			"[run 4242, attempt 2](https://github.com/octo/shop/actions/runs/4242/attempts/2) · job `deploy` · environment `production`</sub>"},
		{"first attempt", &Run{RunID: "7", Attempt: "1", URL: "https://github.com/o/r/actions/runs/7/attempts/1"},
			"<sub>[run 7](https://github.com/o/r/actions/runs/7/attempts/1)</sub>"},
		{"no links but http(s)", &Run{Commit: "abcdef0123", CommitURL: "javascript:alert(1)", RunID: "7", URL: "https://x/y) [z](https://evil"},
			"<sub>commit `abcdef0` · run 7</sub>"},
		{"not a commit", &Run{Commit: "main; rm -rf", Job: "deploy`\n@team"}, "<sub>job deploy\\` ⏎ @\u200bteam</sub>"},
		{"nothing", &Run{}, ""},
		{"none", nil, ""},
	} {
		if got := runLine(tc.run); got != tc.want {
			t.Errorf("%s: runLine = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestREADMESample keeps the README's sample comment the renderer's output for the demo's
// report; `go test ./internal/report -run TestREADMESample -update` rewrites it.
func TestREADMESample(t *testing.T) {
	const path, begin, end = "../../README.md", "<!-- sample:begin -->\n", "<!-- sample:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block", path, begin, end)
	}
	var quoted strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(Markdown(demoReport(t), MarkdownOptions{Run: demoRun}), "\n"), "\n") {
		quoted.WriteString(strings.TrimRight("> "+l, " ") + "\n")
	}
	got := readme[:i+len(begin)] + quoted.String() + readme[j:]
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != readme {
		t.Errorf("the README's sample is not the demo report as rendered now; run `go test ./internal/report -run TestREADMESample -update`")
	}
}
