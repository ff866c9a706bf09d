package report

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// truncatedLimit keeps the truncation golden small enough to read.
const truncatedLimit = 8000

const goldenMarker = "<!-- rollout-gate:production/api -->"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run `go test ./internal/report -update` and review the diff.\n--- got ---\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			limit := CommentLimit
			if fx.name == "truncated" {
				limit = truncatedLimit
			}
			md := Markdown(fx.r, MarkdownOptions{Limit: limit, Marker: goldenMarker})
			golden(t, fx.name+".md", []byte(md))
			checkMarkdown(t, md, goldenMarker, limit)

			var txt bytes.Buffer
			if err := Text(&txt, fx.r, TextOptions{}); err != nil {
				t.Fatalf("Text: %v", err)
			}
			golden(t, fx.name+".txt", txt.Bytes())
			if strings.Contains(txt.String(), "\x1b") {
				t.Errorf("text without colour has escape sequences")
			}
		})
	}
}

func TestGoldenColour(t *testing.T) {
	var txt bytes.Buffer
	if err := Text(&txt, fixtureNamed(t, "oom-killed"), TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "oom-killed.color.txt", txt.Bytes())
}

func TestGoldenJSON(t *testing.T) {
	for _, name := range []string{"missing-secret-key", "interrupted"} {
		b, err := JSON(fixtureNamed(t, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".json", b)
	}
}

func fixtureNamed(t *testing.T, name string) *Report {
	t.Helper()
	for _, fx := range fixtures() {
		if fx.name == name {
			return fx.r
		}
	}
	t.Fatalf("no fixture %q", name)
	return nil
}

// TestFixturesCoverEveryCause reads model.go so that a cause added there without a golden report
// fails here.
func TestFixturesCoverEveryCause(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "model.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var causes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Cause" {
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					causes = append(causes, strings.Trim(lit.Value, `"`))
				}
			}
		}
		return true
	})
	if len(causes) < 16 {
		t.Fatalf("found only %d causes in model.go: %v", len(causes), causes)
	}
	byName := map[string]*Report{}
	for _, fx := range fixtures() {
		byName[fx.name] = fx.r
	}
	for _, c := range causes {
		r, ok := byName[c]
		if !ok {
			t.Errorf("cause %q has no fixture report (and so no golden files)", c)
			continue
		}
		if got := r.TopCause(); string(got) != c {
			t.Errorf("fixture %q has top cause %q", c, got)
		}
		if Cause(c).Title() == c {
			t.Errorf("cause %q has no title", c)
		}
	}
}

// checkMarkdown asserts what must hold for any rendered report.
// liveAutolink and liveIssueRef are what GitHub links in prose: bare URLs, www., GH-12, #12.
var (
	// liveAutolink is cmark-gfm's rule (extensions/autolink.c), which GitHub's renderer is built
	// on, not RE2's \b: a URL's scheme is the ASCII letters before "://", so "1https://" and
	// "_https://" link; "www." links at a line start or after white space, *, _, ~ or (. And
	// GitHub's own GH-12 references.
	liveAutolink = regexp.MustCompile(`(?i)(?:^|[^a-z])(?:https?|ftp)://|(?:^|[\s*_~(])www\.|\bgh-[0-9]`)
	liveIssueRef = regexp.MustCompile(`(?:^|[^&])#[0-9]`)
)

func checkMarkdown(t *testing.T, md, marker string, limit int) {
	t.Helper()
	if !utf8.ValidString(md) {
		t.Errorf("not valid UTF-8")
	}
	if limit > 0 && len(md) > limit {
		t.Errorf("len %d > limit %d", len(md), limit)
	}
	if marker != "" {
		if strings.Count(md, marker) != 1 || !strings.HasSuffix(md, "\n"+marker+"\n") {
			t.Errorf("marker must appear exactly once, at the end")
		}
		md = strings.TrimSuffix(md, marker+"\n")
	}
	if strings.Contains(md, "<!--") || strings.Contains(md, "-->") {
		t.Errorf("an HTML comment delimiter outside the marker")
	}
	if strings.Contains(md, "##[") {
		t.Errorf("a legacy workflow command prefix ##[")
	}
	blocks, err := scanMarkdown(md)
	if err != nil {
		t.Errorf("%v\n%s", err, md)
		return
	}
	for _, l := range blocks.prose {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
			t.Errorf("a line outside code starts a workflow command: %q", l)
		}
		if i := strings.Index(l, "@"); i >= 0 && !strings.HasPrefix(l[i+1:], zwsp) {
			t.Errorf("a mention that pings: %q", l)
		}
		if bad := rawHTML(l); bad != "" {
			t.Errorf("raw HTML %q outside code: %q", bad, l)
		}
		if m := liveAutolink.FindString(l); m != "" {
			t.Errorf("an autolink or cross-reference %q outside code: %q", m, l)
		}
		if m := liveIssueRef.FindString(l); m != "" {
			t.Errorf("an issue reference %q outside code: %q", m, l)
		}
	}
	for _, l := range blocks.code {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
			t.Errorf("a line inside code starts a workflow command: %q", l)
		}
	}
	for _, d := range blocks.diagrams {
		if err := checkMermaid(d); err != nil {
			t.Errorf("%v\n%s", err, strings.Join(d, "\n"))
		}
	}
}

type scanned struct {
	prose, code []string
	diagrams    [][]string // the lines of each mermaid block, also in code
}

// The statements a rollout diagram may hold, and the text of their labels. A label is our own
// words and emoji with <br/> line breaks, and cluster text in the safe alphabet of mermaidText:
// nothing Mermaid reads as syntax (# ; % : " < > & { } [ ] $ ` newline) and no link or click.
var (
	mermaidHeader      = regexp.MustCompile(`^sequenceDiagram$`)
	mermaidParticipant = regexp.MustCompile(`^    participant (gate|w[1-9][0-9]*) as (.+)$`)
	mermaidStep        = regexp.MustCompile(`^    (?:Note over (w[1-9][0-9]*)|(gate|w[1-9][0-9]*)->>(gate|w[1-9][0-9]*)): (.+)$`)
	mermaidLabel       = regexp.MustCompile(`^[\p{L}\p{N} ._\-/+(),=💥✅❌⏱⏹↩⚠❔\x{FE0F}]+$`)
)

// checkMermaid says what is wrong with a diagram: a line that is not one of our statements, a
// lane used before it is declared, or a label with a character outside the safe alphabet.
func checkMermaid(lines []string) error {
	if len(lines) < 3 || !mermaidHeader.MatchString(lines[0]) {
		return fmt.Errorf("a mermaid block that is not a sequence diagram with lanes")
	}
	declared := map[string]bool{}
	for _, l := range lines[1:] {
		var ids []string
		var label string
		if m := mermaidParticipant.FindStringSubmatch(l); m != nil {
			if declared[m[1]] || len(declared) > 0 && !declared["gate"] {
				return fmt.Errorf("participant %s declared twice or before the gate: %q", m[1], l)
			}
			declared[m[1]] = true
			label = m[2]
		} else if m := mermaidStep.FindStringSubmatch(l); m != nil {
			ids, label = []string{m[1], m[2], m[3]}, m[4]
		} else {
			return fmt.Errorf("a line that is none of our statements: %q", l)
		}
		for _, id := range ids {
			if id != "" && !declared[id] {
				return fmt.Errorf("lane %s used but not declared: %q", id, l)
			}
		}
		for _, part := range strings.Split(label, "<br/>") {
			if !mermaidLabel.MatchString(part) {
				return fmt.Errorf("a label with a character outside the safe alphabet: %q", l)
			}
		}
	}
	if len(declared) > maxDiagramLanes+1 {
		return fmt.Errorf("%d lanes, more than %d", len(declared)-1, maxDiagramLanes)
	}
	return nil
}

// scanMarkdown splits Markdown into prose lines and code lines the way CommonMark fences work,
// and fails if a fence is left open or opens with anything but our own languages.
func scanMarkdown(md string) (scanned, error) {
	var s scanned
	fence := ""
	var diagram []string
	for _, l := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(l, " ")
		indent := len(l) - len(trimmed)
		if fence != "" {
			if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" && len(strings.TrimSpace(trimmed)) >= len(fence) {
				fence = ""
				if diagram != nil {
					s.diagrams = append(s.diagrams, diagram)
					diagram = nil
				}
				continue
			}
			s.code = append(s.code, l)
			if diagram != nil {
				diagram = append(diagram, l)
			}
			continue
		}
		if indent <= 3 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
			info := trimmed[n:]
			if trimmed[0] != '`' || (info != "sh" && info != "text" && info != "mermaid" && info != "diff") {
				return s, fmt.Errorf("a fence we did not open: %q", l)
			}
			fence = trimmed[:n]
			if info == "mermaid" {
				diagram = []string{}
			}
			continue
		}
		s.prose = append(s.prose, l)
	}
	if fence != "" {
		return s, fmt.Errorf("fence %q left open", fence)
	}
	return s, nil
}

var allowedTags = []string{"<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>", "<br>"}

// rawHTML returns the first '<' in l that does not start one of our own tags.
func rawHTML(l string) string {
	for i := 0; i < len(l); i++ {
		if l[i] != '<' {
			continue
		}
		ok := false
		for _, tag := range allowedTags {
			if strings.HasPrefix(l[i:], tag) {
				ok = true
				i += len(tag) - 1
				break
			}
		}
		if !ok {
			return l[i:min(len(l), i+12)]
		}
	}
	return ""
}

// TestSchemaDocCoversModel keeps docs/report-schema.md, the contract other steps read, in step
// with model.go: every JSON field, cause id and rollback status must be documented.
func TestSchemaDocCoversModel(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "report-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := func(name string) bool { return bytes.Contains(doc, []byte("`"+name+"`")) }
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeFor[Report]().PkgPath() {
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" && !documented(name) {
				t.Errorf("field %s.%s (%q) is not in docs/report-schema.md", ty.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Report]())
	for _, fx := range fixtures() {
		if c := fx.r.TopCause(); c != "" && !documented(string(c)) {
			t.Errorf("cause %q is not in docs/report-schema.md", c)
		}
	}
	for _, s := range []string{RollbackRolledBack, RollbackFailed, RollbackTimeout, RollbackSkipped, RollbackRefused, RollbackDryRun,
		string(VerdictHealthy), string(VerdictFailed), string(VerdictTimeout), string(VerdictError), string(VerdictSkipped),
		string(VerdictInterrupted), string(MomentRollout), string(MomentPod), string(MomentCrash), string(MomentVerdict),
		string(MomentRollback), string(MomentRollbackEnd)} {
		if !documented(s) {
			t.Errorf("value %q is not in docs/report-schema.md", s)
		}
	}
}
