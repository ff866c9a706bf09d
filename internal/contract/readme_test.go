package contract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/app"
)

// The README's inputs and outputs tables are generated from action.yml between these markers.
// `go test ./internal/contract -run TestREADMETables -update` rewrites them.
const (
	inputsBegin  = "<!-- action-inputs:begin (generated from action.yml by internal/contract; run `go test ./internal/contract -run TestREADMETables -update`) -->"
	inputsEnd    = "<!-- action-inputs:end -->"
	outputsBegin = "<!-- action-outputs:begin (generated from action.yml by internal/contract) -->"
	outputsEnd   = "<!-- action-outputs:end -->"
)

func TestREADMETables(t *testing.T) {
	// Not parallel: with -update it writes README.md.
	a := loadAction(t)
	path := filepath.Join(root(t), "README.md")
	readme := readFile(t, "README.md")

	got := readme
	var err error
	got, err = replaceBetween(got, inputsBegin, inputsEnd, inputsTable(a))
	if err != nil {
		t.Fatal(err)
	}
	got, err = replaceBetween(got, outputsBegin, outputsEnd, outputsTable(a))
	if err != nil {
		t.Fatal(err)
	}
	if got == readme {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote the tables in README.md")
		return
	}
	t.Errorf("README.md's inputs or outputs table differs from action.yml; run `go test ./internal/contract -run TestREADMETables -update`")
}

func replaceBetween(s, begin, end, body string) (string, error) {
	i := strings.Index(s, begin)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		return "", &missingMarkers{begin: begin, end: end}
	}
	return s[:i+len(begin)] + "\n" + body + s[j:], nil
}

type missingMarkers struct{ begin, end string }

func (m *missingMarkers) Error() string {
	return "README.md needs the lines\n" + m.begin + "\n" + m.end + "\naround the table they generate"
}

func inputsTable(a actionMeta) string {
	var b strings.Builder
	b.WriteString("| Input | Default | Description |\n|---|---|---|\n")
	for _, name := range sortedInputs(a) {
		in := a.Inputs[name]
		def := defaultString(in.Default)
		if def != "" {
			def = "`" + def + "`"
		}
		b.WriteString("| `" + name + "` | " + def + " | " + cell(in.Description) + " |\n")
	}
	return b.String()
}

func outputsTable(a actionMeta) string {
	var b strings.Builder
	b.WriteString("| Output | Description |\n|---|---|\n")
	for _, name := range sortedKeys(a.Outputs) {
		b.WriteString("| `" + name + "` | " + cell(a.Outputs[name].Description) + " |\n")
	}
	return b.String()
}

// sortedInputs keeps the order of the flags (kubeconfig first, GitHub's last), which reads better
// than the alphabet.
func sortedInputs(a actionMeta) []string {
	var names []string
	for _, f := range app.FlagNames() {
		if _, ok := a.Inputs[f]; ok {
			names = append(names, f)
		}
	}
	return names
}

// cell makes text safe in a Markdown table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
