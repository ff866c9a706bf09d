//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/github"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 5: the gate binary run the way a runner runs a container action, against the local
// cluster and a fake GitHub API, reports in the summary, outputs, annotations and one sticky PR
// comment, and never loses the report when GitHub refuses the comment.

const (
	// fakeToken is distinctive so that any leak of it is found by a plain search.
	fakeToken = "ghs_E2eFakeTokenRolloutGate9f3kQ7zX"
	ghRepo    = "octo/shop"
	prNumber  = 42
	// podLog is what the crash-looping container prints before it exits; it must reach stdout only
	// inside ::stop-commands::, where the runner reads no workflow command.
	podLog = "FATAL: e2e-podlog-7c1d cannot open /etc/shop/config.yaml"
	// podInjection is a workflow command the pod prints, which must not reach the runner.
	podInjection = "::warning::e2e-injected-by-pod"
	// getUserRefused is GitHub's answer to GET /user with a GITHUB_TOKEN.
	getUserRefused = `{"message":"Resource not accessible by integration"}`
)

func TestActionsCrashLoopReportsEverywhere(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "api", "--print", podLog, "--print", podInjection, "--exit-code", "1")
	apply(t, c, d)
	ws, line := actionWorkspace(t, d)
	kc := actionKubeconfig(t)

	var marker string // the sticky marker of the first run's comment, for the re-run
	t.Run("first run posts the comment", func(t *testing.T) {
		api := newFakeGitHub(t,
			reply("GET", "/user", 403, getUserRefused),
			reply("GET", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 200, `[]`),
			reply("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 201,
				`{"id":4242,"html_url":"https://github.com/octo/shop/pull/42#issuecomment-4242"}`),
		)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line)
		calls := api.wantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "POST /repos/octo/shop/issues/42/comments")
		if len(calls) != 3 {
			return
		}
		if q := calls[1].Query; q != "per_page=100" {
			t.Errorf("comments listed with query %q, want per_page=100", q)
		}
		body := commentBodyOf(t, calls[2])
		marker = report.Marker(github.DefaultCommentKey(&run.Report))
		wantComment(t, body, marker, run.Report.Headline())
		if !strings.Contains(run.Stdout, "::notice::rollout-gate posted its comment on pull request #42") {
			t.Errorf("no notice of the posted comment in stdout:\n%s", run.Stdout)
		}
	})

	t.Run("re-run updates the comment in place", func(t *testing.T) {
		if marker == "" {
			t.Fatal("the first run did not post a comment to update")
		}
		existing := []map[string]any{
			// Someone pasted the marker: not ours, must not be edited.
			{"id": 7, "body": "me too " + marker, "user": map[string]any{"login": "mallory"}},
			{"id": 4242, "body": "## ❌ old report\n" + marker, "user": map[string]any{"login": "github-actions[bot]"}},
		}
		list, err := json.Marshal(existing)
		if err != nil {
			t.Fatal(err)
		}
		api := newFakeGitHub(t,
			reply("GET", "/user", 403, getUserRefused),
			reply("GET", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 200, string(list)),
			reply("PATCH", fmt.Sprintf("/repos/%s/issues/comments/4242", ghRepo), 200,
				`{"id":4242,"html_url":"https://github.com/octo/shop/pull/42#issuecomment-4242"}`),
		)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line)
		calls := api.wantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "PATCH /repos/octo/shop/issues/comments/4242")
		if len(calls) == 3 {
			wantComment(t, commentBodyOf(t, calls[2]), marker, run.Report.Headline())
		}
	})

	t.Run("403 on the comment degrades to a warning", func(t *testing.T) {
		api := newFakeGitHub(t,
			reply("GET", "/user", 403, getUserRefused),
			reply("GET", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 200, `[]`),
			reply("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 403,
				`{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`),
		)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line) // exit 1, summary, outputs and report all there
		api.wantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "POST /repos/octo/shop/issues/42/comments")
		warning := lineWith(run.Stdout, "::warning::")
		if warning == "" || !strings.Contains(warning, "pull-requests: write") || !strings.Contains(warning, "403") {
			t.Errorf("want a ::warning:: about the 403 that names `pull-requests: write`, got %q\nstdout:\n%s", warning, run.Stdout)
		}
		if strings.Contains(run.Stdout, "::notice::rollout-gate posted") {
			t.Errorf("a refused comment was announced as posted:\n%s", run.Stdout)
		}
	})
}

func TestActionsHealthyRolloutDoesNotComment(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "web")
	d.Spec.Template.Spec.Containers[0].ReadinessProbe = framework.HTTPProbe("/ready")
	apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	kc := actionKubeconfig(t)
	api := newFakeGitHub(t,
		reply("GET", "/user", 403, getUserRefused),
		reply("GET", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber), 200, `[]`),
	)

	run := runAction(t, ws, kc, api, ns, "on-failure")
	if run.Exit != 0 {
		t.Fatalf("exit %d, want 0 for a healthy rollout\nstdout:\n%s\nstderr:\n%s", run.Exit, run.Stdout, run.Stderr)
	}
	// Listing is how the gate learns there is no earlier failure comment to mark resolved.
	api.wantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments")
	wantOutputs(t, run.Outputs, "healthy", "", run.ReportPath)
	if head := firstLine(run.Summary); !strings.HasPrefix(head, "## ✅ deployment/web") || !strings.Contains(head, "rolled out healthy") {
		t.Errorf("summary does not lead with the healthy headline:\n%s", run.Summary)
	}
	for _, cmd := range []string{"::error", "::warning"} {
		if strings.Contains(run.Stdout, cmd) {
			t.Errorf("a healthy run printed %s:\n%s", cmd, run.Stdout)
		}
	}
	run.wantNoLeak(t)
}

// actionWorkspace makes a workspace folder whose k8s/app.yaml declares d after a ConfigMap, as
// the applied manifest of the workflow, and returns it with the line where d's document starts.
func actionWorkspace(t *testing.T, d *appsv1.Deployment) (string, int) {
	t.Helper()
	d = d.DeepCopy()
	d.APIVersion, d.Kind = "apps/v1", "Deployment"
	y, err := yaml.Marshal(d)
	if err != nil {
		t.Fatalf("marshal the deployment: %v", err)
	}
	head := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-settings\n  namespace: %s\ndata:\n  mode: e2e\n---\n", d.Namespace)
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, "k8s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "k8s", "app.yaml"), append([]byte(head), y...), 0o644); err != nil {
		t.Fatal(err)
	}
	return ws, strings.Count(head, "\n") + 1
}

// actionKubeconfig is $KUBECONFIG as a workflow hands it to a container action: an API server on
// an address of the host that is not loopback (kind with networking.apiServerAddress set to the
// docker0 gateway), because inside the action's container 127.0.0.1 is the container itself, and
// the gate refuses a loopback server there. The local cluster listens on 127.0.0.1 only, so a TCP
// forwarder on a non-loopback address of this host stands in for that setup; TLS still verifies
// the API server's certificate against its original name.
func actionKubeconfig(t *testing.T) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(framework.Kubeconfig(t))
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	kctx := cfg.Contexts[cfg.CurrentContext]
	if kctx == nil || cfg.Clusters[kctx.Cluster] == nil {
		t.Fatalf("kubeconfig %s: current context %q names no cluster", framework.Kubeconfig(t), cfg.CurrentContext)
	}
	cluster := cfg.Clusters[kctx.Cluster]
	u, err := url.Parse(cluster.Server)
	if err != nil {
		t.Fatalf("kubeconfig server %q: %v", cluster.Server, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
		addr := forwardTCP(t, hostAddress(t), u.Host)
		if cluster.TLSServerName == "" {
			cluster.TLSServerName = u.Hostname()
		}
		u.Host = addr
		cluster.Server = u.String()
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write the action's kubeconfig: %v", err)
	}
	return path
}

// hostAddress is an IPv4 address of this host that is not loopback.
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("list the host's addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatalf("this host has no IPv4 address but loopback (%v): the action's kubeconfig needs one", addrs)
	return ""
}

// forwardTCP listens on a free port of host and copies every connection to and from target until
// the test ends. It returns the address it listens on.
func forwardTCP(t *testing.T, host, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on %s for the API server forwarder: %v", host, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			track(in, true)
			track(out, true)
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
				track(dst, false)
				track(src, false)
			}
			go pipe(in, out)
			go pipe(out, in)
		}
	}()
	return ln.Addr().String()
}

// actionRun is one run of the gate binary as a container action, with what it left behind.
type actionRun struct {
	Exit           int
	Stdout, Stderr string
	Summary        string
	Outputs        map[string]string
	ReportPath     string
	Report         report.Report
	Comments       []string // bodies sent to the API, for the leak check
}

// runAction runs the gate binary in workspace ws with the environment a runner gives a container
// action on a pull_request event: GITHUB_* variables, the event payload, the command files, and
// every input as INPUT_<NAME> with hyphens kept.
func runAction(t *testing.T, ws, kubeconfig string, api *fakeGitHub, ns, commentMode string) actionRun {
	t.Helper()
	runner := t.TempDir() // the runner's file_commands, workflow and temp folders
	event := filepath.Join(runner, "event.json")
	payload := fmt.Sprintf(`{"action":"synchronize","number":%[1]d,"pull_request":{"number":%[1]d,"state":"open",`+
		`"head":{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","repo":{"full_name":%[2]q}},"base":{"repo":{"full_name":%[2]q}}},`+
		`"repository":{"full_name":%[2]q}}`, prNumber, ghRepo)
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	temp := filepath.Join(runner, "temp")
	if err := os.Mkdir(temp, 0o755); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"CI":                  "true",
		"GITHUB_EVENT_NAME":   "pull_request",
		"GITHUB_EVENT_PATH":   event,
		"GITHUB_REPOSITORY":   ghRepo,
		"GITHUB_SHA":          "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", // the merge commit: not to be looked up
		"GITHUB_WORKSPACE":    ws,
		"GITHUB_STEP_SUMMARY": filepath.Join(runner, "step_summary"),
		"GITHUB_OUTPUT":       filepath.Join(runner, "set_output"),
		"RUNNER_TEMP":         temp,
		"GITHUB_API_URL":      api.URL(),

		"INPUT_KUBECONFIG":      kubeconfig,
		"INPUT_NAMESPACE":       ns,
		"INPUT_WORKLOAD":        "",
		"INPUT_FILENAME":        "k8s/app.yaml",
		"INPUT_GITHUB-TOKEN":    fakeToken,
		"INPUT_COMMENT":         commentMode,
		"INPUT_CRASH-TOLERANCE": "0",
		"INPUT_SOAK":            "2s",
		"INPUT_TIMEOUT":         "3m",
		"INPUT_ROLLBACK":        "false",
		"INPUT_OUTPUT":          "text",
	}
	// The runner creates the command files empty before the step.
	for _, k := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
		if err := os.WriteFile(vars[k], nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "RUNNER_") ||
			strings.HasPrefix(k, "ACTIONS_") || k == "KUBECONFIG" || k == "CI" {
			continue // the test's own CI must not leak into the run
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.GateBinary(t))
	cmd.Dir, cmd.Env = ws, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := actionRun{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		run.Exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run the gate: %v", err)
	}
	t.Logf("gate as an action: exit %d\nstdout:\n%s\nstderr:\n%s", run.Exit, run.Stdout, run.Stderr)

	summary, err := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatalf("read the step summary: %v", err)
	}
	run.Summary = string(summary)
	out, err := os.ReadFile(vars["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatalf("read the step outputs: %v", err)
	}
	run.Outputs = parseOutputFile(t, string(out))
	run.ReportPath = run.Outputs["report-path"]
	// Relative to the workspace, where later steps on the runner run.
	if want := "rollout-gate-report.json"; run.ReportPath != want {
		t.Errorf("report-path = %q, want %q (in the workspace)", run.ReportPath, want)
	}
	if raw, err := os.ReadFile(filepath.Join(ws, run.ReportPath)); err != nil {
		t.Errorf("the report-path output names no readable file: %v", err)
	} else if err := json.Unmarshal(raw, &run.Report); err != nil {
		t.Errorf("the JSON report does not parse: %v\n%s", err, raw)
	} else if run.Report.SchemaVersion != 1 {
		t.Errorf("the JSON report has schemaVersion %d, want 1", run.Report.SchemaVersion)
	}
	for _, c := range api.Calls() {
		if c.Body != "" {
			var b struct {
				Body string `json:"body"`
			}
			if err := json.Unmarshal([]byte(c.Body), &b); err == nil {
				run.Comments = append(run.Comments, b.Body)
			}
		}
	}
	if strings.Contains(run.Stderr, "goroutine ") || strings.Contains(run.Stderr, "panic:") {
		t.Errorf("the gate printed a stack trace:\n%s", run.Stderr)
	}
	return run
}

// wantFailedEverywhere checks a crash-loop run: exit 1, the Markdown summary, the outputs, the
// annotation on the manifest line, the pod log fenced off from the runner, and no token leak.
func (run actionRun) wantFailedEverywhere(t *testing.T, line int) {
	t.Helper()
	if run.Exit != 1 {
		t.Errorf("exit %d, want 1 (failed)", run.Exit)
	}
	cause := run.Report.TopCause()
	if cause == "" || cause == report.CauseUnknown {
		t.Errorf("report cause %q, want a diagnosed cause", cause)
	}
	wantOutputs(t, run.Outputs, "failed", string(cause), run.ReportPath)

	head := firstLine(run.Summary)
	if !strings.HasPrefix(head, "## ❌ deployment/api failed: ") || len(head) <= len("## ❌ deployment/api failed: ") {
		t.Errorf("summary headline %q does not name deployment/api and why it failed", head)
	}
	if !strings.Contains(run.Summary, "`"+string(cause)+"`") || !strings.Contains(run.Summary, cause.Title()) {
		t.Errorf("summary does not show cause %s (%s):\n%s", cause, cause.Title(), run.Summary)
	}

	errLine := lineWith(run.Stdout, "::error ")
	if want := fmt.Sprintf("::error file=k8s/app.yaml,line=%d,", line); !strings.HasPrefix(errLine, want) {
		t.Errorf("annotation %q, want it to start with %q", errLine, want)
	}
	if !strings.Contains(errLine, "deployment/api failed") {
		t.Errorf("annotation %q does not name deployment/api", errLine)
	}
	run.wantLogFenced(t)
	run.wantNoLeak(t)
}

// wantLogFenced checks that the pod's log lines reach stdout only between ::stop-commands::TOKEN
// and ::TOKEN::, with a random token.
func (run actionRun) wantLogFenced(t *testing.T) {
	t.Helper()
	start := regexp.MustCompile(`(?m)^::stop-commands::(\S+)$`).FindStringSubmatchIndex(run.Stdout)
	if start == nil {
		t.Errorf("stdout has no ::stop-commands:: line:\n%s", run.Stdout)
		return
	}
	token := run.Stdout[start[2]:start[3]]
	if len(token) < 16 {
		t.Errorf("stop-commands token %q is too short to be unguessable", token)
	}
	endRel := strings.Index(run.Stdout[start[1]:], "\n::"+token+"::\n")
	if endRel < 0 {
		t.Errorf("::stop-commands::%s is never ended with ::%s:: on a line of its own", token, token)
		return
	}
	inside := run.Stdout[start[1] : start[1]+endRel]
	outside := run.Stdout[:start[0]] + run.Stdout[start[1]+endRel:]
	if strings.Count(run.Stdout, "::stop-commands::") != 1 {
		t.Errorf("want exactly one ::stop-commands:: block:\n%s", run.Stdout)
	}
	for _, s := range []string{"e2e-podlog-7c1d", "e2e-injected-by-pod"} {
		if !strings.Contains(inside, s) {
			t.Errorf("the pod log %q is not in the text report inside ::stop-commands::", s)
		}
	}
	// Outside the fence the key log line may only be quoted inside the message of the ::error
	// annotation (the diagnosis quotes it), where it is escaped and cannot start a command.
	for _, l := range strings.Split(outside, "\n") {
		if strings.Contains(l, "e2e-injected-by-pod") {
			t.Errorf("the workflow command the pod printed reaches stdout outside ::stop-commands:::\n%s", l)
		}
		if !strings.Contains(l, "e2e-podlog-7c1d") {
			continue
		}
		header := strings.Index(l, "::") + 2
		header += strings.Index(l[header:], "::") + 2
		if !strings.HasPrefix(l, "::error ") || header < 4 || strings.Index(l, "e2e-podlog-7c1d") < header {
			t.Errorf("the pod log reaches stdout outside ::stop-commands:: other than in an annotation's message:\n%s", l)
		}
	}
}

// wantNoLeak checks the token is masked before anything is printed and appears nowhere else.
func (run actionRun) wantNoLeak(t *testing.T) {
	t.Helper()
	mask := "::add-mask::" + fakeToken + "\n"
	if !strings.HasPrefix(run.Stdout, mask) {
		t.Errorf("stdout does not begin with %q: the runner masks only what is printed after it:\n%s", mask, run.Stdout)
	}
	if rest := strings.ReplaceAll(run.Stdout, mask, ""); strings.Contains(rest, fakeToken) {
		t.Errorf("the token appears in stdout outside ::add-mask:::\n%s", rest)
	}
	where := map[string]string{"stderr": run.Stderr, "step summary": run.Summary}
	for i, c := range run.Comments {
		where[fmt.Sprintf("comment body %d", i)] = c
	}
	for name, s := range where {
		if strings.Contains(s, fakeToken) {
			t.Errorf("the token leaks into the %s", name)
		}
	}
}

func wantOutputs(t *testing.T, got map[string]string, verdict, cause, reportPath string) {
	t.Helper()
	want := map[string]string{"verdict": verdict, "cause": cause, "rolled-back": "false", "report-path": reportPath}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("outputs %v, want exactly %v", got, want)
	}
}

// wantComment checks a comment body: the headline first, the hidden marker last.
func wantComment(t *testing.T, body, marker, headline string) {
	t.Helper()
	head := firstLine(body)
	if !strings.HasPrefix(head, "## ❌ deployment/api failed: ") {
		t.Errorf("comment headline %q, want the failure of deployment/api", head)
	}
	if unescaped := strings.ReplaceAll(head, `\`, ""); !strings.Contains(unescaped, headline) {
		t.Errorf("comment headline %q does not carry the report's headline %q", head, headline)
	}
	if !strings.HasSuffix(body, "\n"+marker+"\n") {
		t.Errorf("comment does not end with the marker %s:\n%s", marker, body)
	}
}

// parseOutputFile reads GITHUB_OUTPUT as the runner does, insisting on name<<DELIMITER blocks
// with a random delimiter used once.
func parseOutputFile(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok || !strings.HasPrefix(delim, "ghadelimiter_") || len(delim) < len("ghadelimiter_")+16 {
			t.Fatalf("GITHUB_OUTPUT line %d is not name<<ghadelimiter_RANDOM: %q\n%s", i+1, lines[i], s)
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

// lineWith is the first line of s that starts with prefix, "" if none.
func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// fakeGitHub is the GitHub REST API for one run of the binary: it answers a script of replies in
// order and records every request; the test compares the recorded calls after the binary exits.
// It is a small copy of the stub style of internal/github's apiMock, which lives in a _test.go
// file of that package and so cannot be imported here.
type fakeGitHub struct {
	srv    *httptest.Server
	prefix string // the API root, as GitHub Enterprise Server has it

	mu     sync.Mutex
	script []scripted
	calls  []apiCall
}

type scripted struct {
	method, path string
	status       int
	body         string
}

// apiCall is one request the fake received, its path without the API root.
type apiCall struct {
	Method, Path, Query, Auth, Body string
}

func (c apiCall) String() string { return c.Method + " " + c.Path }

func reply(method, path string, status int, body string) scripted {
	return scripted{method: method, path: path, status: status, body: body}
}

func newFakeGitHub(t *testing.T, script ...scripted) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{prefix: "/api/v3", script: script}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is GITHUB_API_URL for the fake.
func (f *fakeGitHub) URL() string { return f.srv.URL + f.prefix }

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := apiCall{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, f.prefix), Query: r.URL.RawQuery,
		Auth: r.Header.Get("Authorization"), Body: string(body)}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, c)
	var s *scripted
	if n < len(f.script) && f.script[n].method == c.Method && f.script[n].path == c.Path {
		s = &f.script[n]
	}
	f.mu.Unlock()
	if s == nil {
		http.Error(w, `{"message":"not in the test's script"}`, http.StatusNotImplemented)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.body)
}

// Calls returns the requests received so far.
func (f *fakeGitHub) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// wantCalls checks the fake got exactly these requests ("METHOD /path"), in order, each with the
// token as a bearer, and returns them.
func (f *fakeGitHub) wantCalls(t *testing.T, want ...string) []apiCall {
	t.Helper()
	calls := f.Calls()
	got := make([]string, len(calls))
	for i, c := range calls {
		got[i] = c.String()
		if c.Auth != "Bearer "+fakeToken {
			t.Errorf("%s: Authorization %q, want the github-token input as a bearer token", c, c.Auth)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GitHub API calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	return calls
}

// commentBodyOf decodes the body of a create or edit comment request.
func commentBodyOf(t *testing.T, c apiCall) string {
	t.Helper()
	var b struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal([]byte(c.Body), &b); err != nil || b.Body == nil {
		t.Errorf("%s: body is not {\"body\": ...}: %v: %s", c, err, c.Body)
		return ""
	}
	return *b.Body
}
