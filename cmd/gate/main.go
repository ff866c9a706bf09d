// Command gate watches the rollouts a `kubectl apply` started, fails fast on crash loops and other
// fatal pod states, names the root cause with its evidence, optionally rolls back, and reports on
// the terminal or, inside GitHub Actions, in the job summary, annotations, outputs and a sticky
// pull-request comment.
//
// Exit codes: 0 healthy; 1 failed or timed out; 2 invalid input; 3 could not evaluate.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/rollout-gate/rollout-gate/internal/app"
	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/github"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/version"
)

func main() {
	// client-go logs retries through klog; the gate says what matters itself.
	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: time.Now, isTTY: isTerminal(os.Stdout), version: version.Get(),
	})
	stop()
	os.Exit(code)
}

// env is everything run touches outside itself.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	isTTY          bool
	version        version.Info // the build's; the reports carry its Short form
	httpClient     *http.Client // GitHub API; nil = github.NewHTTPClient()
	// connect connects to the cluster; nil = app.Connect (the kubeconfig).
	connect func(*app.Options, func(string) string) (*app.Cluster, error)
	// publishTimeout bounds the whole PR comment exchange; 0 = publishDeadline.
	publishTimeout time.Duration
}

// Deadlines of publishing. The verdict, outputs and summary are written before any network call;
// only the PR comment waits on GitHub, and never longer than this.
const (
	publishDeadline = 90 * time.Second
	// cancelledPublish is what is left after SIGTERM: the runner kills the container about ten
	// seconds after it asks it to stop.
	cancelledPublish = 3 * time.Second
)

// run is the whole command. Its exit code is the run's verdict's (app.Result.ExitCode); only a
// report file it is told to write where it must not (a link) makes it bad input.
func run(ctx context.Context, args []string, e env) (code int) {
	if wantsVersion(args) {
		fmt.Fprint(e.stdout, e.version.String())
		return 0
	}
	inActions := e.getenv("GITHUB_ACTIONS") == "true"
	if inActions {
		args = append(app.ArgsFromInputs(e.getenv), args...)
		// The runner reads workflow commands on stderr too; the gate writes its own on stdout
		// only, so everything on stderr (progress, errors that quote the cluster) is neutralised.
		nw := &github.NeutralWriter{W: e.stderr}
		defer nw.Flush()
		e.stderr = nw
	}
	o, err := app.Parse(args, e.stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "error: %v\n", err)
		if inActions {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelledPublish)
			publishInputError(pctx, e, err)
			cancel()
		}
		return fault.Code(err)
	}

	var pub *github.Publisher
	if inActions {
		pub = &github.Publisher{
			Getenv: e.getenv, Stdout: e.stdout, HTTPClient: e.httpClient,
			Token: o.GitHubToken, CommentMode: o.Comment, CommentKey: o.CommentKey, PRNumber: o.PRNumber,
			CommentAuthor: o.CommentAuthor, NoCommitPR: !o.PRFromCommit, Environment: o.Environment,
			Secrets: app.KubeconfigSecrets(o.KubeconfigData),
		}
		// First of all: the runner masks the token only in what is printed after this.
		pub.Mask()
	}

	res := app.Run(ctx, o, app.Deps{Stdin: e.stdin, Progress: e.stderr, Getenv: e.getenv, Now: e.now, Connect: e.connect})
	r := res.Report
	r.GateVersion = e.version.Short()
	code = res.ExitCode()
	if code == fault.ExitInvalid || code == fault.ExitCannotEvaluate {
		fmt.Fprintf(e.stderr, "error: %s\n", r.Message)
	}

	reportPath, werr := writeFiles(o, r, e.getenv, inActions)
	switch {
	case fault.Code(werr) == fault.ExitInvalid:
		// A report path that is a link or not a file: the run's input is wrong, whatever the verdict.
		fmt.Fprintf(e.stderr, "error: %v\n", werr)
		defer func() { code = fault.ExitInvalid }()
	case werr != nil:
		fmt.Fprintf(e.stderr, "warning: %v\n", werr)
	}
	if code == fault.ExitHealthy || code == fault.ExitFailed || o.Output == "json" {
		// For bad input or an unreachable cluster the error line above says all there is.
		printReport(o, r, e, inActions)
	}

	if inActions {
		// Publishing never changes the verdict: failures come back as warnings, already printed.
		// It gets its own deadline, and still runs (briefly) after a cancel, so that the summary
		// and outputs say what happened.
		limit := e.publishTimeout
		if limit <= 0 {
			limit = publishDeadline
		}
		if ctx.Err() != nil {
			limit = min(limit, cancelledPublish)
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
		_ = pub.Publish(pctx, r, reportPath)
		cancel()
	}
	return code
}

// wantsVersion: `gate version`, or --version anywhere before a `--`. Not a flag of app.Options,
// whose flags are the action's inputs one for one.
func wantsVersion(args []string) bool {
	if len(args) > 0 && args[0] == "version" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--version" {
			return true
		}
	}
	return false
}

// publishInputError still gives later steps verdict=error and puts the reason in the job summary
// when the action's inputs cannot be read; no comment is posted.
func publishInputError(ctx context.Context, e env, err error) {
	pub := &github.Publisher{Getenv: e.getenv, Stdout: e.stdout, HTTPClient: e.httpClient,
		Token: strings.TrimSpace(e.getenv("INPUT_GITHUB-TOKEN")), CommentMode: github.CommentNever}
	pub.Mask()
	now := e.now().UTC()
	r := &report.Report{SchemaVersion: report.SchemaVersion, Verdict: report.VerdictError, Message: err.Error(),
		StartedAt: now, FinishedAt: now, Workloads: []report.Workload{}, GateVersion: e.version.Short()}
	_ = pub.Publish(ctx, r, "")
}

// writeFiles writes --report-json and --report-markdown. In Actions the JSON report is always
// written, by default to rollout-gate-report.json in the workspace, named by a path relative to
// it: the container's /github/workspace is the runner's workspace, and later steps run there.
func writeFiles(o *app.Options, r *report.Report, getenv func(string) string, inActions bool) (string, error) {
	var errs []error
	path := o.ReportJSON
	if path == "" && inActions {
		path = "rollout-gate-report.json"
		if ws := getenv("GITHUB_WORKSPACE"); ws != "" {
			if wd, err := os.Getwd(); err != nil || filepath.Clean(wd) != filepath.Clean(ws) {
				path = filepath.Join(ws, path)
			}
		}
	}
	if path != "" {
		js, err := report.JSON(r)
		if err == nil {
			err = writeReportFile(path, js)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write JSON report %s: %w", path, err))
			path = ""
		}
	}
	if o.ReportMarkdown != "" {
		md := report.Markdown(r, report.MarkdownOptions{Limit: report.SummaryLimit})
		if err := writeReportFile(o.ReportMarkdown, []byte(md)); err != nil {
			errs = append(errs, fmt.Errorf("write Markdown report %s: %w", o.ReportMarkdown, err))
		}
	}
	return path, errors.Join(errs...)
}

// printReport writes the result to stdout: JSON with -o json, otherwise the terminal report. In
// Actions, text echoed from the cluster is fenced off from the runner's workflow commands.
func printReport(o *app.Options, r *report.Report, e env, inActions bool) {
	if o.Output == "json" {
		js, err := report.JSON(r)
		if err != nil {
			fmt.Fprintf(e.stderr, "error: render JSON report: %v\n", err)
			return
		}
		e.stdout.Write(js)
		return
	}
	color := e.isTTY && e.getenv("NO_COLOR") == "" && !inActions
	render := func(w io.Writer) error { return report.Text(w, r, report.TextOptions{Color: color}) }
	var err error
	if inActions {
		err = github.StopCommands(e.stdout, render)
	} else {
		err = render(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "error: print report: %v\n", err)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
