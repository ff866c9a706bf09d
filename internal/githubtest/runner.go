package githubtest

import (
	"os"
	"path/filepath"
	"strings"
)

// FatalTB is TB with Fatalf, for the helpers that cannot go on after a failure.
type FatalTB interface {
	TB
	Fatalf(format string, args ...any)
	TempDir() string
}

// Runner is the runner's side of one step: a folder with the event payload and the command
// files GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, created empty as the runner creates them, and the
// GITHUB_* variables that name them.
type Runner struct {
	Dir string
	// Env is the step's environment: GITHUB_ACTIONS, CI, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
	// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; tests add the rest.
	Env map[string]string
}

// NewRunner prepares a step run on eventName with the event payload.
func NewRunner(t FatalTB, eventName, payload string) *Runner {
	t.Helper()
	dir := t.TempDir()
	r := &Runner{Dir: dir, Env: map[string]string{
		"GITHUB_ACTIONS":      "true",
		"CI":                  "true",
		"GITHUB_EVENT_NAME":   eventName,
		"GITHUB_EVENT_PATH":   filepath.Join(dir, "event.json"),
		"GITHUB_OUTPUT":       filepath.Join(dir, "set_output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "step_summary"),
	}}
	for path, data := range map[string]string{r.Env["GITHUB_EVENT_PATH"]: payload, r.Env["GITHUB_OUTPUT"]: "", r.Env["GITHUB_STEP_SUMMARY"]: ""} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatalf("runner files: %v", err)
		}
	}
	return r
}

// Getenv reads the step's environment, as a Getenv seam.
func (r *Runner) Getenv(k string) string { return r.Env[k] }

// Environ is the environment of a process run as the step: this process's own, without anything
// of the test's own CI (GITHUB_*, INPUT_*, RUNNER_*, ACTIONS_*, KUBECONFIG, CI), then Env.
func (r *Runner) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "RUNNER_") ||
			strings.HasPrefix(k, "ACTIONS_") || k == "KUBECONFIG" || k == "CI" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// Outputs reads GITHUB_OUTPUT back with ParseOutputs.
func (r *Runner) Outputs(t FatalTB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(r.Env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatalf("read the step outputs: %v", err)
	}
	return ParseOutputs(t, string(b))
}

// Summary reads GITHUB_STEP_SUMMARY: the Markdown the step appended.
func (r *Runner) Summary(t FatalTB) string {
	t.Helper()
	b, err := os.ReadFile(r.Env["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatalf("read the step summary: %v", err)
	}
	return string(b)
}

// delimiterPrefix is how the runner's toolkit and the gate start a heredoc delimiter; the rest
// must be random, or a value could end its own block and set another output.
const delimiterPrefix = "ghadelimiter_"

// minRandom is the least random part of a delimiter accepted: 20 characters of base32 is 100 bits.
const minRandom = 20

// ParseOutputs reads a GITHUB_OUTPUT file as the runner does, and insists on the safe form: every
// output a name<<ghadelimiter_RANDOM heredoc block, each delimiter used once and closed, each name
// set once.
func ParseOutputs(t FatalTB, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if s == "" {
		return out
	}
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok || name == "" || !strings.HasPrefix(delim, delimiterPrefix) || len(delim) < len(delimiterPrefix)+minRandom {
			t.Fatalf("GITHUB_OUTPUT line %d is not name<<%sRANDOM: %q\n%s", i+1, delimiterPrefix, lines[i], s)
		}
		if seen[delim] {
			t.Errorf("GITHUB_OUTPUT delimiter %s is used twice", delim)
		}
		seen[delim] = true
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("GITHUB_OUTPUT %s: delimiter %s never closed\n%s", name, delim, s)
		}
		if _, dup := out[name]; dup {
			t.Errorf("GITHUB_OUTPUT sets %s twice", name)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}
