package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// maxCommentPages bounds the search for our comment (100 comments a page).
const maxCommentPages = 30

// shorterComment is the limit for a second try after GitHub says a body is too long (it counts
// differently from us in some edge, or the limit changed).
const shorterComment = report.CommentLimit / 4

// keep is the suffix of every warning about the comment: nothing else is lost.
const keep = " The job summary and outputs were written; the gate's verdict is unchanged."

func (s *session) comment(ctx context.Context, r *report.Report) {
	mode := s.CommentMode
	if mode == "" {
		mode = CommentOnFailure
	}
	if err := CheckCommentMode(mode); err != nil {
		s.warn("no PR comment: %v.", err)
		return
	}
	if mode == CommentNever {
		return
	}
	// A run some workload's own annotations skipped or loosened is not a plain pass: it is posted too.
	failing := r.Verdict != report.VerdictHealthy || len(r.Overridden()) > 0
	mayCreate := mode == CommentAlways || failing

	owner, repo, ok := strings.Cut(s.getenv("GITHUB_REPOSITORY"), "/")
	if !ok || owner == "" || repo == "" {
		if mayCreate {
			s.warn("no PR comment: GITHUB_REPOSITORY is not set (owner/name), so the repository is unknown." + keep)
		}
		return
	}
	if s.token == "" {
		if mayCreate {
			s.warn("no PR comment: no GitHub token; pass `github-token: ${{ github.token }}` to the action." + keep)
		}
		return
	}
	client, err := s.client()
	if err != nil {
		s.warn("no PR comment: %v."+keep, err)
		return
	}
	number, err := s.findPR(ctx, client, owner, repo)
	if err != nil {
		s.warn("no PR comment: %s"+keep, explain(err, "find the pull request", owner, repo, 0))
		return
	}
	if number == 0 {
		s.notice("no PR comment: event %q has no pull request; set the pr-number input to comment on one.", s.getenv("GITHUB_EVENT_NAME"))
		return
	}
	login := s.CommentAuthor
	if login == "" {
		login = s.login(ctx, client)
	}
	key := s.CommentKey
	if key == "" {
		key = DefaultCommentKey(r)
	}
	marker := report.Marker(key)
	existing, err := findComment(ctx, client, owner, repo, number, marker, login)
	if err != nil {
		s.warn("no PR comment: %s"+keep, explain(err, "list the comments of the pull request", owner, repo, number))
		return
	}
	if existing == nil && !mayCreate {
		return // healthy, nothing reported before: stay quiet
	}
	var notes []string
	if existing != nil && !failing && !strings.HasPrefix(existing.GetBody(), "## ✅") {
		notes = append(notes, "The rollout is now healthy; the failure this comment reported before is resolved.")
	}
	post := func(limit int) (*gh.IssueComment, error) {
		body := report.Markdown(r, report.MarkdownOptions{Limit: limit, Marker: marker, Notes: notes})
		if existing != nil {
			c, _, err := client.Issues.EditComment(ctx, owner, repo, existing.GetID(), &gh.IssueComment{Body: &body})
			return c, err
		}
		c, _, err := client.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &body})
		return c, err
	}
	limit := report.CommentLimit
	c, err := post(limit)
	if isTooLong(err) {
		limit = shorterComment
		c, err = post(limit)
	}
	if existing == nil && mayHaveApplied(ctx, err) {
		// The POST may have been applied although no answer said so: look for it before posting
		// again, so the pull request never gets the comment twice.
		if serr := s.sleep(ctx, time.Second); serr == nil {
			if again, lerr := findComment(ctx, client, owner, repo, number, marker, login); lerr == nil {
				existing = again
				c, err = post(limit)
			}
		}
	}
	if err != nil {
		s.warn("no PR comment: %s"+keep, explain(err, "write the comment", owner, repo, number))
		return
	}
	verb := "posted"
	if existing != nil {
		verb = "updated"
	}
	s.notice("rollout-gate %s its comment on pull request #%d: %s", verb, number, c.GetHTMLURL())
}

// mayHaveApplied reports whether a failed write may still have been applied: GitHub answered
// 5xx, or no answer came (a timeout or a dropped connection) while there is still time to look.
func mayHaveApplied(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode >= 500
	}
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	return !errors.As(err, &rl) && !errors.As(err, &abuse)
}

func (s *session) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	return sleepContext(ctx, d)
}

// client builds the go-github client: our retrying transport under go-github's auth, and
// GITHUB_API_URL for GitHub Enterprise.
func (s *session) client() (*gh.Client, error) {
	hc := s.HTTPClient
	if hc == nil {
		hc = NewHTTPClient()
	}
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	sleep, now := s.Sleep, s.Now
	if sleep == nil {
		sleep = sleepContext
	}
	if now == nil {
		now = time.Now
	}
	c.Transport = &retryTransport{base: base, sleep: sleep, now: now, timeout: s.RequestTimeout}
	client := gh.NewClient(&c).WithAuthToken(s.token)
	if api := s.getenv("GITHUB_API_URL"); api != "" {
		// GitHub Enterprise Server sets https://HOST/api/v3 and GHE.com https://api.HOST; go-github
		// keeps both and adds api/v3/ to anything else.
		var err error
		if client, err = client.WithEnterpriseURLs(api, api); err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q is not a URL: %w", api, err)
		}
	}
	return client, nil
}

// event holds the parts of the webhook payloads that lead to a pull request.
type event struct {
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Issue *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	WorkflowRun *struct {
		HeadSHA string `json:"head_sha"`
	} `json:"workflow_run"`
	Deployment *struct {
		SHA string `json:"sha"`
	} `json:"deployment"`
}

// findPR returns the pull request to comment on, 0 if there is none.
func (s *session) findPR(ctx context.Context, client *gh.Client, owner, repo string) (int, error) {
	if s.PRNumber > 0 {
		return s.PRNumber, nil
	}
	name := s.getenv("GITHUB_EVENT_NAME")
	var ev event
	if path := s.getenv("GITHUB_EVENT_PATH"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("read the event payload GITHUB_EVENT_PATH: %w", err)
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			return 0, fmt.Errorf("decode the event payload %s: %w", path, err)
		}
	}
	sha := ""
	switch name {
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment":
		// GITHUB_SHA is a merge commit (or the base branch tip for _target): use the number.
		if ev.PullRequest != nil {
			return ev.PullRequest.Number, nil
		}
	case "issue_comment":
		if ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null" {
			return ev.Issue.Number, nil
		}
	case "push":
		sha = s.getenv("GITHUB_SHA")
	case "workflow_run":
		// workflow_run.pull_requests is empty for fork PRs; the head commit finds them all.
		if ev.WorkflowRun != nil {
			sha = ev.WorkflowRun.HeadSHA
		}
	case "deployment", "deployment_status":
		if ev.Deployment != nil {
			sha = ev.Deployment.SHA
		}
	}
	if sha == "" {
		return 0, nil
	}
	prs, _, err := client.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return 0, fmt.Errorf("list the pull requests of commit %s: %w", sha, err)
	}
	for _, pr := range prs {
		if pr.GetState() == "open" {
			return pr.GetNumber(), nil
		}
	}
	return 0, nil
}

// login is whose comments are ours: the token's user when GET /user works (a personal token),
// otherwise github-actions[bot] (GITHUB_TOKEN may not read /user).
func (s *session) login(ctx context.Context, client *gh.Client) string {
	u, _, err := client.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin()
	}
	return botLogin
}

// findComment pages through the comments for the first one by login that carries the marker.
// Both must match: anyone can paste a marker into a comment of their own.
func findComment(ctx context.Context, client *gh.Client, owner, repo string, number int, marker, login string) (*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for range maxCommentPages {
		cs, resp, err := client.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.GetUser().GetLogin() == login && strings.Contains(c.GetBody(), marker) {
				return c, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
	return nil, nil
}

func isTooLong(err error) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	text := strings.ToLower(er.Message)
	for _, e := range er.Errors {
		text += " " + strings.ToLower(e.Message+" "+e.Code)
	}
	return strings.Contains(text, "too long") || strings.Contains(text, "too_long")
}

// explain turns an API error into a sentence that says what happened and what to do.
func explain(err error, doing, owner, repo string, number int) string {
	pr := fmt.Sprintf("%s/%s", owner, repo)
	if number > 0 {
		pr = fmt.Sprintf("pull request #%d of %s/%s", number, owner, repo)
	}
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return fmt.Sprintf("could not %s: the GitHub API rate limit is used up until %s (GITHUB_TOKEN allows 1,000 requests an hour per repository).",
			doing, rl.Rate.Reset.UTC().Format(time.RFC3339))
	case errors.As(err, &abuse):
		return fmt.Sprintf("could not %s: GitHub's secondary rate limit was hit (too many writes at once): %s.", doing, abuse.Message)
	case errors.As(err, &er) && er.Response != nil:
		code, msg := er.Response.StatusCode, er.Message
		switch {
		case code == http.StatusUnauthorized:
			return fmt.Sprintf("could not %s: the token was rejected (401 %s); check the github-token input.", doing, msg)
		case code == http.StatusForbidden:
			return fmt.Sprintf("could not %s: GitHub refused (403 %s). The token cannot write comments on %s: add `pull-requests: write` under `permissions:` in the workflow. "+
				"Pull requests from forks (and Dependabot) get a read-only token, so they cannot be commented on from pull_request workflows.", doing, msg, pr)
		case code == http.StatusNotFound:
			return fmt.Sprintf("could not %s: not found (404 %s). Check that %s exists (the pr-number input) and that the token can see it; "+
				"GitHub also answers 404 when the token lacks `pull-requests: write` on a private repository.", doing, msg, pr)
		case code == http.StatusUnprocessableEntity:
			var details []string
			for _, e := range er.Errors {
				if d := strings.TrimSpace(e.Message + " " + e.Code); d != "" {
					details = append(details, d)
				}
			}
			if len(details) > 0 {
				msg += ": " + strings.Join(details, "; ")
			}
			return fmt.Sprintf("could not %s: GitHub rejected it (422 %s).", doing, msg)
		case code == http.StatusTooManyRequests:
			reset := er.Response.Header.Get("X-RateLimit-Reset")
			when := "later"
			if secs, perr := parseUnix(reset); perr == nil {
				when = "after " + secs.UTC().Format(time.RFC3339)
			}
			return fmt.Sprintf("could not %s: rate limited (429 %s) after %d retries; try again %s.", doing, msg, maxRetries, when)
		case code >= 500:
			return fmt.Sprintf("could not %s: GitHub API error %d (%s).", doing, code, msg)
		}
		return fmt.Sprintf("could not %s: GitHub answered %d (%s).", doing, code, msg)
	}
	return fmt.Sprintf("could not %s: %v.", doing, err)
}

func parseUnix(s string) (time.Time, error) {
	var secs int64
	if _, err := fmt.Sscan(s, &secs); err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0), nil
}
