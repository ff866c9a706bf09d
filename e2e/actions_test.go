//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/github"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
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
	framework.Apply(t, c, d)
	ws, line := actionWorkspace(t, d)
	kc := actionKubeconfig(t)

	var marker string // the sticky marker of the first run's comment, for the re-run
	t.Run("first run posts the comment", func(t *testing.T) {
		api := commentAPI(t, `[]`)
		api.On("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber)).
			Reply(201, `{"id":4242,"html_url":"https://github.com/octo/shop/pull/42#issuecomment-4242"}`)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line)
		calls := api.WantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "POST /repos/octo/shop/issues/42/comments")
		if len(calls) != 3 {
			return
		}
		body := githubtest.CommentBody(t, []byte(calls[2].Body))
		// The sticky marker: this workflow's file and job, and the target (the namespace).
		marker = report.Marker("repo=" + ghRepo + ",workflow=.github/workflows/deploy.yml,job=deploy,key=" + github.DefaultCommentKey(&run.Report))
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
		api := commentAPI(t, string(list))
		api.On("PATCH", fmt.Sprintf("/repos/%s/issues/comments/4242", ghRepo)).
			Reply(200, `{"id":4242,"html_url":"https://github.com/octo/shop/pull/42#issuecomment-4242"}`)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line)
		calls := api.WantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "PATCH /repos/octo/shop/issues/comments/4242")
		if len(calls) == 3 {
			wantComment(t, githubtest.CommentBody(t, []byte(calls[2].Body)), marker, run.Report.Headline())
		}
	})

	t.Run("403 on the comment degrades to a warning", func(t *testing.T) {
		api := commentAPI(t, `[]`)
		api.On("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber)).
			Reply(403, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`)
		run := runAction(t, ws, kc, api, ns, "on-failure")
		run.wantFailedEverywhere(t, line) // exit 1, summary, outputs and report all there
		api.WantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments", "POST /repos/octo/shop/issues/42/comments")
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
	d := framework.Ready(framework.Deployment(ns, "web"))
	framework.Apply(t, c, d)
	ws, _ := actionWorkspace(t, d)
	kc := actionKubeconfig(t)
	api := commentAPI(t, `[]`)

	run := runAction(t, ws, kc, api, ns, "on-failure")
	if run.Exit != 0 {
		t.Fatalf("exit %d, want 0 for a healthy rollout\nstdout:\n%s\nstderr:\n%s", run.Exit, run.Stdout, run.Stderr)
	}
	// Listing is how the gate learns there is no earlier failure comment to mark resolved.
	api.WantCalls(t, "GET /user", "GET /repos/octo/shop/issues/42/comments")
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

// commentAPI is a GitHub API as a pull_request run with GITHUB_TOKEN sees it: /user is refused,
// and the pull request's comments, listed a page of 100 at a time, are list (JSON).
func commentAPI(t *testing.T, list string) *githubtest.API {
	api := githubtest.NewAPI(t, fakeToken)
	api.On("GET", "/user").Reply(403, getUserRefused)
	api.On("GET", fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, prNumber)).WithQuery("per_page=100").Reply(200, list)
	return api
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

// runAction runs the gate binary in workspace ws as a runner runs a container action on a
// pull_request event (runHardenedAction), with the inputs of a plain crash-loop check.
func runAction(t *testing.T, ws, kubeconfig string, api *githubtest.API, ns, commentMode string) actionRun {
	t.Helper()
	run := runHardenedAction(t, hardenedAction{ws: ws, ns: ns, apiURL: api.URL(), inputs: map[string]string{
		"INPUT_KUBECONFIG": kubeconfig, "INPUT_WORKLOAD": "", "INPUT_COMMENT": commentMode,
		"INPUT_ROLLBACK": "false", "INPUT_OUTPUT": "text",
	}}).actionRun
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
	want := map[string]string{"verdict": verdict, "cause": cause, "rolled-back": "false", "report-path": reportPath, "ignored": ""}
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

// lineWith is the first line of s that starts with prefix, "" if none.
func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
