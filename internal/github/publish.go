// Package github publishes a rollout-gate report where people look inside GitHub Actions: the step
// summary, the step outputs, error annotations on the manifests, and one sticky pull-request
// comment. Rendering is report's job; this package only does the I/O, and it never fails the
// gate: whatever GitHub refuses becomes a warning, and the summary and outputs are written first.
package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Comment modes.
const (
	CommentOnFailure = "on-failure" // post when the rollout is not healthy; later update that comment when it is
	CommentAlways    = "always"
	CommentNever     = "never"
)

// CheckCommentMode validates a comment mode, for the CLI's Validate.
func CheckCommentMode(mode string) error {
	switch mode {
	case "", CommentOnFailure, CommentAlways, CommentNever:
		return nil
	}
	return fmt.Errorf("comment mode %q is not one of %s, %s, %s", mode, CommentOnFailure, CommentAlways, CommentNever)
}

// maxAnnotations is GitHub's limit of error annotations shown per step; more are dropped silently.
const maxAnnotations = 10

// botLogin is the author of comments made with GITHUB_TOKEN, which cannot call GET /user.
const botLogin = "github-actions[bot]"

// InActions reports whether the process runs inside GitHub Actions.
func InActions(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// Publisher writes a report to GitHub. Every field is a seam: tests give a fake environment, a
// buffer, an httptest client and an instant Sleep.
type Publisher struct {
	Getenv     func(string) string                        // GITHUB_* come through here; nil = os.Getenv
	Stdout     io.Writer                                  // workflow commands; nil = os.Stdout
	HTTPClient *http.Client                               // nil = NewHTTPClient()
	Sleep      func(context.Context, time.Duration) error // waits between retries; nil = a timer
	Now        func() time.Time                           // for x-ratelimit-reset; nil = time.Now
	// RequestTimeout bounds each API request; 0 = 20s. The caller's context bounds them all.
	RequestTimeout time.Duration

	// Token authenticates API calls. It is masked with ::add-mask:: before any use. Empty means
	// INPUT_GITHUB-TOKEN, then GITHUB_TOKEN from Getenv.
	Token string
	// CommentMode is on-failure (default), always or never.
	CommentMode string
	// CommentKey tells this deploy target's comment from others of the same workflow job on the
	// same PR. Empty means DefaultCommentKey of the report. The marker always adds the
	// repository, workflow and job (see marker).
	CommentKey string
	// PRNumber is an explicit pull request to comment on; 0 means find it from the event.
	PRNumber int
	// NoCommitPR turns off finding the pull request from the commit on push, workflow_dispatch,
	// workflow_run and deployment events (the pr-from-commit input, false).
	NoCommitPR bool
	// Environment is the deployment environment the comment names; empty means the deployment
	// event's, if any.
	Environment string
	// CommentAuthor is whose comment is ours; empty means the token's user (GET /user), else
	// github-actions[bot]. GitHub App installation tokens cannot read /user: they need this.
	CommentAuthor string
	// Secrets are more values to mask with the token (a kubeconfig's token and keys given as
	// content), each line on its own: the runner masks a value only as it was registered.
	Secrets []string

	masked bool
}

// Mask prints ::add-mask:: for the token, once. The runner hides a secret only in what is printed
// after that command, so the CLI calls Mask before it prints anything; Publish calls it too.
func (p *Publisher) Mask() {
	if p.masked {
		return
	}
	p.masked = true
	s := p.session()
	if s.token != "" {
		_ = command(s.out, "add-mask", nil, s.token)
	}
	for _, v := range p.Secrets {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 8 {
				_ = command(s.out, "add-mask", nil, line)
			}
		}
	}
}

// Publish writes, in this order, the step summary (GITHUB_STEP_SUMMARY), the outputs verdict,
// cause, rolled-back and report-path (GITHUB_OUTPUT), ::error annotations on the manifest of each
// failing workload (at most 10; the rest are listed in the summary), and the sticky PR comment. It
// never fails the gate: it returns warnings, each already printed as ::warning::.
func (p *Publisher) Publish(ctx context.Context, r *report.Report, reportPath string) []string {
	p.Mask()
	s := p.session()
	annotated, rest := pickAnnotations(r)
	var notes []string
	if len(rest) > 0 {
		notes = append(notes, fmt.Sprintf("GitHub shows at most %d error annotations per step; these failing workloads were not annotated: %s.",
			maxAnnotations, strings.Join(rest, ", ")))
	}
	s.summary(r, notes)
	s.outputs(r, reportPath)
	s.annotate(annotated)
	s.warnOverrides(r)
	s.comment(ctx, r)
	return s.warnings
}

// session is one Publish call: the publisher's settings with defaults filled in, and the warnings.
type session struct {
	*Publisher
	getenv   func(string) string
	out      io.Writer
	token    string
	warnings []string
	// tokenLogin is whom the token posts as, once asked (see login).
	tokenLogin string
}

func (p *Publisher) session() *session {
	s := &session{Publisher: p, getenv: p.Getenv, out: p.Stdout, token: p.Token}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	if s.out == nil {
		s.out = os.Stdout
	}
	if s.token == "" {
		s.token = s.getenv("INPUT_GITHUB-TOKEN")
	}
	if s.token == "" {
		s.token = s.getenv("GITHUB_TOKEN")
	}
	return s
}

func (s *session) warn(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	s.warnings = append(s.warnings, msg)
	_ = command(s.out, "warning", nil, msg)
}

func (s *session) notice(format string, a ...any) {
	_ = command(s.out, "notice", nil, fmt.Sprintf(format, a...))
}

func (s *session) summary(r *report.Report, notes []string) {
	path := s.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return // not in Actions
	}
	limit := report.SummaryLimit
	if fi, err := os.Stat(path); err == nil {
		limit -= int(fi.Size()) // the limit is per step, and the file may already hold something
	}
	md := report.Markdown(r, report.MarkdownOptions{Limit: max(limit, 1024), Notes: notes})
	if err := appendFile(path, md); err != nil {
		s.warn("could not write the job summary to GITHUB_STEP_SUMMARY: %v", err)
	}
}

func (s *session) outputs(r *report.Report, reportPath string) {
	path := s.getenv("GITHUB_OUTPUT")
	if path == "" {
		return
	}
	kv := [][2]string{
		{"verdict", string(r.Verdict)},
		{"cause", string(r.TopCause())},
		{"rolled-back", strconv.FormatBool(r.RolledBack)},
		{"report-path", reportPath},
		{"ignored", strings.Join(r.IgnoredRefs(), ",")},
	}
	if err := appendFile(path, outputs(kv)); err != nil {
		s.warn("could not write the step outputs to GITHUB_OUTPUT: %v", err)
	}
}

type annotation struct {
	file, title, msg string
	line             int
}

// pickAnnotations returns an annotation for each of the first failing workloads that came from a
// manifest, and names the ones beyond GitHub's limit.
func pickAnnotations(r *report.Report) (picked []annotation, rest []string) {
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if !w.Verdict.Failing() || w.Source == nil || w.Source.File == "" {
			continue
		}
		if len(picked) == maxAnnotations {
			rest = append(rest, fmt.Sprintf("%s (%s)", w.Ref(), w.Source))
			continue
		}
		title := "rollout-gate: " + w.Ref() + " " + string(w.Verdict)
		if len(w.Findings) > 0 && w.Findings[0].Cause != "" {
			title += " (" + string(w.Findings[0].Cause) + ")"
		}
		msg := w.Headline()
		file, line := w.Source.File, max(w.Source.Line, 1)
		if e := edit(w); e != nil && e.File == w.Source.File {
			// On the line that sets the value, with the value it should have.
			line = e.Line
			msg += "\nFix: set " + e.What + " back to " + e.Before + " (the revision before)"
		} else if fix := firstCommand(w); fix != "" {
			msg += "\nFix: " + fix
		}
		picked = append(picked, annotation{file: file, line: line, title: title, msg: msg})
	}
	return picked, rest
}

// edit is the manifest edit of a workload's first finding, if any.
func edit(w *report.Workload) *report.ManifestEdit {
	if len(w.Findings) == 0 {
		return nil
	}
	return w.Findings[0].Edit
}

// firstCommand is the first fix command of a workload's first finding that is not a comment, as
// it stands after the workload's rollback (report.Workload.FixCommands).
func firstCommand(w *report.Workload) string {
	if len(w.Findings) == 0 {
		return ""
	}
	for _, c := range w.FixCommands(&w.Findings[0]) {
		if c = strings.TrimSpace(c); c != "" && !strings.HasPrefix(c, "#") {
			return c
		}
	}
	return ""
}

func (s *session) annotate(as []annotation) {
	for _, a := range as {
		props := map[string]string{"file": a.file, "line": strconv.Itoa(a.line), "title": a.title}
		_ = command(s.out, "error", props, a.msg)
	}
}
