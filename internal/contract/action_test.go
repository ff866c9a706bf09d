package contract

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/app"
	"github.com/rollout-gate/rollout-gate/internal/github"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

var update = flag.Bool("update", false, "rewrite the README's inputs and outputs tables from action.yml")

// tokenDefault is the one input whose default differs from its flag's: outside Actions there is
// no token, inside it the job's own token is the sensible default.
const tokenDefault = "${{ github.token }}"

type actionMeta struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Author      string `json:"author"`
	Branding    struct {
		Icon  string `json:"icon"`
		Color string `json:"color"`
	} `json:"branding"`
	Inputs map[string]struct {
		Description string `json:"description"`
		Required    bool   `json:"required"`
		// Default is any: YAML lets a default be written as a number or a boolean, and the
		// runner turns it into a string either way.
		Default any `json:"default"`
	} `json:"inputs"`
	Outputs map[string]struct {
		Description string `json:"description"`
	} `json:"outputs"`
	Runs struct {
		Using string `json:"using"`
		Image string `json:"image"`
	} `json:"runs"`
}

// root is the module root: the folder above this package that holds go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadAction(t *testing.T) actionMeta {
	t.Helper()
	var a actionMeta
	// Strict: a misspelt key (defualt, descripton) is an error, not a silently ignored field.
	if err := yaml.UnmarshalStrict([]byte(readFile(t, "action.yml")), &a); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	return a
}

// defaultString is an input's default as the runner passes it: a string, "" when absent.
func defaultString(v any) string {
	switch d := v.(type) {
	case nil:
		return ""
	case string:
		return d
	case bool:
		return strconv.FormatBool(d)
	case float64: // JSON numbers
		return strconv.FormatFloat(d, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wantSameNames fails the test with missingMsg for each name of want not in got, and with
// extraMsg for each name of got not in want.
func wantSameNames(t *testing.T, want, got []string, missingMsg, extraMsg string) {
	t.Helper()
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s: %v", missingMsg, missing)
	}
	if len(extra) > 0 {
		t.Errorf("%s: %v", extraMsg, extra)
	}
}

func TestActionMetadata(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	if a.Name == "" || a.Description == "" {
		t.Error("action.yml needs a name and a description (the Marketplace shows them)")
	}
	if a.Runs.Using != "docker" {
		t.Errorf("runs.using = %s, want a Docker container action (TestActionRunsTheReleasedImage checks its image)", a.Runs.Using)
	}
	if a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Error("action.yml needs branding.icon and branding.color (actionlint checks their values)")
	}
	for name, in := range a.Inputs {
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required {
			t.Errorf("input %s is required: the runner does not enforce it, and the gate validates its own flags", name)
		}
	}
	for name, out := range a.Outputs {
		if strings.TrimSpace(out.Description) == "" {
			t.Errorf("output %s has no description", name)
		}
	}
}

func TestInputsAreTheFlags(t *testing.T) {
	t.Parallel()
	flags := app.FlagNames()
	slices.Sort(flags)
	inputs := sortedKeys(loadAction(t).Inputs)
	wantSameNames(t, flags, inputs, "flags without an input in action.yml", "inputs in action.yml that are no flag of the gate")
}

// TestInputDefaultsAreFlagDefaults compares each input's default with its flag's default, as
// values: "5m" and "5m0s" are the same duration, "[]" and "" the same empty list.
func TestInputDefaultsAreFlagDefaults(t *testing.T) {
	t.Parallel()
	inputs := loadAction(t).Inputs
	fs := (&app.Options{}).FlagSet(io.Discard)
	fs.VisitAll(func(f *pflag.Flag) {
		in, ok := inputs[f.Name]
		if !ok {
			return // TestInputsAreTheFlags reports it
		}
		got := defaultString(in.Default)
		if f.Name == "github-token" {
			if got != tokenDefault {
				t.Errorf("input github-token: default %q, want %q", got, tokenDefault)
			}
			return
		}
		if err := sameValue(f.Value.Type(), got, f.DefValue); err != nil {
			t.Errorf("input %s: default %q, flag --%s default %q: %v", f.Name, got, f.Name, f.DefValue, err)
		}
	})
}

func sameValue(typ, input, flagDefault string) error {
	switch typ {
	case "bool":
		a, err1 := strconv.ParseBool(input)
		b, err2 := strconv.ParseBool(flagDefault)
		if err1 != nil || err2 != nil || a != b {
			return fmt.Errorf("not the same boolean")
		}
	case "duration":
		a, err1 := time.ParseDuration(input)
		b, err2 := time.ParseDuration(flagDefault)
		if err1 != nil || err2 != nil || a != b {
			return fmt.Errorf("not the same duration")
		}
	case "int":
		a, err1 := strconv.Atoi(input)
		b, err2 := strconv.Atoi(flagDefault)
		if err1 != nil || err2 != nil || a != b {
			return fmt.Errorf("not the same integer")
		}
	case "stringArray", "stringSlice":
		if input != "" || (flagDefault != "[]" && flagDefault != "") {
			return fmt.Errorf("a list input defaults to empty, like its flag")
		}
	default:
		if input != flagDefault {
			return fmt.Errorf("not the same string")
		}
	}
	return nil
}

// runnerEnv is what the Actions runner gives a container action for its inputs: each value
// (the default when the workflow sets none) as INPUT_<name upper-cased, spaces to underscores>,
// hyphens kept (runner Handler.cs AddInputsToEnvironment).
func runnerEnv(a actionMeta, with map[string]string) map[string]string {
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for name, in := range a.Inputs {
		v := defaultString(in.Default)
		if w, ok := with[name]; ok {
			v = w
		}
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	return env
}

// TestDefaultInputsParseToFlagDefaults runs the real path: the runner's environment for a step
// that sets no input, through app.ArgsFromInputs and app.Parse, gives the options of a bare CLI.
func TestDefaultInputsParseToFlagDefaults(t *testing.T) {
	t.Parallel()
	env := runnerEnv(loadAction(t), map[string]string{"github-token": "ghs_example"})
	got, err := app.Parse(app.ArgsFromInputs(func(k string) string { return env[k] }), io.Discard)
	if err != nil {
		t.Fatalf("the default inputs do not parse: %v", err)
	}
	want, err := app.Parse(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want.GitHubToken = "ghs_example"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options from the default inputs:\n%+v\nwant the flag defaults:\n%+v", *got, *want)
	}
}

// TestHyphenatedInputsReachTheGate: the runner keeps hyphens (INPUT_CRASH-TOLERANCE), which a
// shell cannot read but os.Getenv can; multi-line inputs become repeated flags.
func TestHyphenatedInputsReachTheGate(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	env := runnerEnv(a, map[string]string{
		"crash-tolerance":  "3",
		"pending-grace":    "1m",
		"rollback-timeout": "90s",
		"filename":         "k8s/api.yaml\nk8s/worker.yaml\n",
		"workload":         "deploy/api, sts/db",
		"rollback":         "true",
		"comment":          "always",
		"pr-number":        "42",
		"github-token":     "ghs_example",
	})
	if _, ok := env["INPUT_CRASH-TOLERANCE"]; !ok {
		t.Fatalf("runner env has no INPUT_CRASH-TOLERANCE: %v", sortedKeys(env))
	}
	o, err := app.Parse(app.ArgsFromInputs(func(k string) string { return env[k] }), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"crash-tolerance", o.CrashTolerance, 3},
		{"pending-grace", o.PendingGrace, time.Minute},
		{"rollback-timeout", o.RollbackTimeout, 90 * time.Second},
		{"filename", o.Filenames, []string{"k8s/api.yaml", "k8s/worker.yaml"}},
		{"workload", o.Workloads, []string{"deploy/api", "sts/db"}},
		{"rollback", o.Rollback, true},
		{"comment", o.Comment, "always"},
		{"pr-number", o.PRNumber, 42},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("input %s: option = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestOutputsAreWhatThePublisherWrites runs the publisher against a fake runner and compares the
// names it writes to GITHUB_OUTPUT with action.yml's outputs, so neither can drift.
func TestOutputsAreWhatThePublisherWrites(t *testing.T) {
	t.Parallel()
	outFile := filepath.Join(t.TempDir(), "github_output")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": outFile}
	p := &github.Publisher{
		Getenv:      func(k string) string { return env[k] },
		Stdout:      io.Discard,
		CommentMode: github.CommentNever,
	}
	r := &report.Report{SchemaVersion: report.SchemaVersion, Verdict: report.VerdictFailed, RolledBack: true,
		Workloads: []report.Workload{{Kind: "Deployment", Namespace: "prod", Name: "api", Verdict: report.VerdictFailed,
			Findings: []report.Finding{{Cause: report.CauseConfigError, Summary: "DATABASE_PORT is not an integer"}}}}}
	if warnings := p.Publish(context.Background(), r, "/github/runner_temp/rollout-gate-report.json"); len(warnings) > 0 {
		t.Fatalf("publish warned: %v", warnings)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	// The safe heredoc form the runner reads, checked by the one parser the other tests use too.
	written := sortedKeys(githubtest.ParseOutputs(t, string(b)))
	declared := sortedKeys(loadAction(t).Outputs)
	wantSameNames(t, declared, written, "outputs in action.yml that the publisher never writes", "outputs the publisher writes that action.yml does not declare")
}
