package github

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// maxFilePages bounds the pull request's files read (GitHub lists at most 3,000, 100 a page).
const maxFilePages = 30

// suggest posts, on an open pull request, a review comment with a GitHub suggestion on each
// manifest line the report's first fixes edit, when that line is part of the pull request's
// diff (GitHub accepts review comments on diff lines only, and a suggestion elsewhere could not
// be applied). It posts each at most once per run: a suggestion already left by this run (a
// second publish, a retried step) is found by its marker. Failures are warnings.
func (s *session) suggest(ctx context.Context, client *gh.Client, owner, repo string, number int, head, login string, r *report.Report) {
	edits := s.editsInWorkspace(r)
	if len(edits) == 0 || !isSHA(head) {
		return
	}
	inDiff, err := diffLines(ctx, client, owner, repo, number)
	if err != nil {
		s.warn("no review suggestion: %s"+keep, explain(err, "list the files of the pull request", owner, repo, number))
		return
	}
	var todo []*report.ManifestEdit
	for _, e := range edits {
		if inDiff[e.File][e.Line] {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return
	}
	posted, err := s.suggested(ctx, client, owner, repo, number, login)
	if err != nil {
		s.warn("no review suggestion: %s"+keep, explain(err, "list the review comments of the pull request", owner, repo, number))
		return
	}
	for _, e := range todo {
		marker := s.suggestionMarker(e)
		if posted[marker] {
			continue
		}
		body := suggestionBody(e, marker)
		c := &gh.PullRequestComment{Body: &body, CommitID: gh.String(head), Path: gh.String(e.File), Line: gh.Int(e.Line), Side: gh.String("RIGHT")}
		if _, _, err := client.PullRequests.CreateComment(ctx, owner, repo, number, c); err != nil {
			s.warn("no review suggestion on %s:%d: %s"+keep, e.File, e.Line, explain(err, "post the review comment", owner, repo, number))
			return
		}
		s.notice("rollout-gate suggested the fix on %s line %d of pull request #%d", e.File, e.Line, number)
	}
}

// editsInWorkspace are the manifest edits of the report's failing workloads, with their files
// relative to the repository (the workspace is its checkout); a file outside it has no line in
// the pull request.
func (s *session) editsInWorkspace(r *report.Report) []*report.ManifestEdit {
	ws := s.getenv("GITHUB_WORKSPACE")
	var out []*report.ManifestEdit
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if !w.Verdict.Failing() {
			continue
		}
		for j := range w.Findings {
			e := w.Findings[j].Edit
			if e == nil || e.Line <= 0 {
				continue
			}
			file := filepath.ToSlash(filepath.Clean(e.File))
			if filepath.IsAbs(e.File) {
				rel, err := filepath.Rel(ws, e.File)
				if ws == "" || err != nil {
					continue
				}
				file = filepath.ToSlash(rel)
			}
			if file == "." || strings.HasPrefix(file, "../") {
				continue
			}
			c := *e
			c.File = file
			out = append(out, &c)
		}
	}
	return out
}

// diffLines reads the pull request's files and returns, per file, the lines of its new version
// that the diff shows (added lines and their context).
func diffLines(ctx context.Context, client *gh.Client, owner, repo string, number int) (map[string]map[int]bool, error) {
	out := map[string]map[int]bool{}
	opts := &gh.ListOptions{PerPage: 100}
	for range maxFilePages {
		files, resp, err := client.PullRequests.ListFiles(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			out[f.GetFilename()] = patchLines(f.GetPatch())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// patchLines are the new-side line numbers a unified diff's hunks show.
func patchLines(patch string) map[int]bool {
	lines := map[int]bool{}
	n := 0
	for _, l := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(l, "@@"):
			// @@ -a,b +c,d @@
			plus := strings.Index(l, " +")
			if plus < 0 {
				n = 0
				continue
			}
			rest := l[plus+2:]
			if end := strings.IndexAny(rest, ", "); end >= 0 {
				rest = rest[:end]
			}
			start, err := strconv.Atoi(rest)
			if err != nil {
				n = 0
				continue
			}
			n = start
		case n == 0, strings.HasPrefix(l, "-"), strings.HasPrefix(l, `\`):
		default: // "+" or " "
			lines[n] = true
			n++
		}
	}
	return lines
}

// suggestionMarker identifies one suggestion of one run: the run, the job and the line.
func (s *session) suggestionMarker(e *report.ManifestEdit) string {
	return report.Marker("suggestion,repo=" + s.getenv("GITHUB_REPOSITORY") + ",run=" + s.getenv("GITHUB_RUN_ID") +
		",job=" + s.getenv("GITHUB_JOB") + ",path=" + e.File + ",line=" + strconv.Itoa(e.Line))
}

// suggested returns the markers of the review comments the gate already left on the pull request.
func (s *session) suggested(ctx context.Context, client *gh.Client, owner, repo string, number int, login string) (map[string]bool, error) {
	out := map[string]bool{}
	opts := &gh.PullRequestListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for range maxCommentPages {
		cs, resp, err := client.PullRequests.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.GetUser().GetLogin() != login {
				continue
			}
			body := strings.TrimRight(strings.ReplaceAll(c.GetBody(), "\r\n", "\n"), "\n ")
			if i := strings.LastIndex(body, "\n"); i >= 0 {
				out[body[i+1:]] = true
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// suggestionBody is our own words, the suggested line in a fence longer than any backtick run
// in it (the value may come from the cluster), and the marker.
func suggestionBody(e *report.ManifestEdit, marker string) string {
	fence := "```"
	for strings.Contains(e.New, fence) {
		fence += "`"
	}
	line := strings.NewReplacer("\r", "", "\n", "").Replace(e.New)
	return fmt.Sprintf("**rollout-gate:** the rollout failed on the value this line sets; this puts back the value of the revision before. "+
		"The pull request's rollout-gate comment has the evidence.\n\n%ssuggestion\n%s\n%s\n\n%s\n", fence, line, fence, marker)
}
