package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	ev, err := s.readEvent()
	if err != nil {
		s.warn("no PR comment: %v."+keep, err)
		return
	}
	pr, err := s.findPR(ctx, client, owner, repo, ev)
	if err != nil {
		s.warn("no PR comment: %s"+keep, explainRead(err, "find the pull request of the commit", owner, repo))
		return
	}
	// A healthy deploy from the branch (push, dispatch, deployment) may be the fix of a failure
	// the gate reported on another pull request, the one that shipped the broken commit.
	resolveOther := !failing && s.PRNumber == 0 && !s.NoCommitPR && commitEvents[s.getenv("GITHUB_EVENT_NAME")]
	if pr.number == 0 {
		if resolveOther {
			s.resolveElsewhere(ctx, client, owner, repo, r, ev, 0)
		}
		s.notice("no PR comment: %s.", pr.why)
		return
	}
	number := pr.number
	login := s.CommentAuthor
	if login == "" {
		login = s.login(ctx, client)
	}
	run := s.runInfo(ev)
	marker := s.marker(r)
	existing, err := findComment(ctx, client, owner, repo, number, marker, login)
	if err != nil {
		s.warn("no PR comment: %s"+keep, explain(err, "list the comments of the pull request", owner, repo, number))
		return
	}
	if existing == nil && resolveOther {
		s.resolveElsewhere(ctx, client, owner, repo, r, ev, number)
	}
	if existing == nil && !mayCreate {
		return // healthy, nothing reported before: stay quiet
	}
	var notes []string
	if existing != nil && !failing {
		if before := lastRun(existing.GetBody()); before.verdict != string(report.VerdictHealthy) {
			notes = append(notes, fixedNote(run.Commit, before.commit))
		}
	}
	state := stateLine(r.Verdict, run.Commit)
	post := func(limit int) (*gh.IssueComment, error) {
		body := report.Markdown(r, report.MarkdownOptions{Limit: limit, Marker: state + "\n" + marker, Notes: notes, Run: run})
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
	if failing && s.getenv("GITHUB_EVENT_NAME") == "pull_request" && ev.PullRequest != nil && ev.PullRequest.Number == number {
		// Only on a pull_request run: its workspace is the pull request's code, so the lines
		// the edits name are the pull request's, and it is open (a suggestion on a closed one
		// cannot be applied).
		s.suggest(ctx, client, owner, repo, number, ev.PullRequest.Head.SHA, login, r)
	}
	if author := c.GetUser().GetLogin(); existing == nil && author != "" && author != login {
		// The token posts as someone other than assumed: the next run would not recognise this
		// comment as its own and would post another.
		s.warn("the comment was posted as %s, but the gate looks for its own comments by %s; set the comment-author input to %s so that later runs edit this comment instead of adding one.",
			author, login, author)
	}
}

// resolveElsewhere turns green the comment the gate last wrote for this target when it is on
// another pull request and still reports a failure: on a push, the fix usually ships in a pull
// request other than the one whose merge broke the deploy, and the red comment there must not
// stand for ever. It reads one page of the repository's most recently updated comments, so a
// failure reported long ago and many comments back is left as it is; failures are warnings.
func (s *session) resolveElsewhere(ctx context.Context, client *gh.Client, owner, repo string, r *report.Report, ev event, fixedIn int) {
	login := s.CommentAuthor
	if login == "" {
		login = s.login(ctx, client)
	}
	marker := s.marker(r)
	cs, _, err := client.Issues.ListComments(ctx, owner, repo, 0, &gh.IssueListCommentsOptions{
		Sort: gh.String("updated"), Direction: gh.String("desc"), ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		s.warn("the earlier failure's comment was not updated: %s"+keep, explain(err, "list the repository's comments", owner, repo, 0))
		return
	}
	var last *gh.IssueComment
	for _, c := range cs {
		if c.GetUser().GetLogin() == login && endsWithMarker(c.GetBody(), marker) {
			last = c
			break
		}
	}
	if last == nil || lastRun(last.GetBody()).verdict == string(report.VerdictHealthy) {
		return
	}
	run := s.runInfo(ev)
	note := fixedNote(run.Commit, lastRun(last.GetBody()).commit)
	if fixedIn > 0 {
		note += fmt.Sprintf(" The fix shipped in pull request #%d.", fixedIn)
	}
	body := report.Markdown(r, report.MarkdownOptions{Limit: report.CommentLimit, Marker: stateLine(r.Verdict, run.Commit) + "\n" + marker,
		Notes: []string{note}, Run: run})
	c, _, err := client.Issues.EditComment(ctx, owner, repo, last.GetID(), &gh.IssueComment{Body: &body})
	if err != nil {
		s.warn("the earlier failure's comment was not updated: %s"+keep, explain(err, "edit the comment", owner, repo, 0))
		return
	}
	s.notice("rollout-gate marked its earlier failure resolved: %s", c.GetHTMLURL())
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

// login is whose comments are ours: the token's user when GET /user works (a personal token),
// otherwise github-actions[bot] (GITHUB_TOKEN may not read /user).
// It is asked once per publish.
func (s *session) login(ctx context.Context, client *gh.Client) string {
	if s.tokenLogin != "" {
		return s.tokenLogin
	}
	s.tokenLogin = botLogin
	if u, _, err := client.Users.Get(ctx, ""); err == nil && u.GetLogin() != "" {
		s.tokenLogin = u.GetLogin()
	}
	return s.tokenLogin
}

// findComment pages through the comments for the first one the gate wrote for this marker: by
// login (anyone can paste a marker into a comment of their own) and ending with the marker,
// which the gate always writes last (a comment that quotes it, even by the same bot, is not ours).
func findComment(ctx context.Context, client *gh.Client, owner, repo string, number int, marker, login string) (*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for range maxCommentPages {
		cs, resp, err := client.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.GetUser().GetLogin() == login && endsWithMarker(c.GetBody(), marker) {
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

// explainRead is explain for the look-up of a commit's pull requests, a read: a 403 or 404 there
// means the token may not read pull requests (or the repository), not that it cannot write.
func explainRead(err error, doing, owner, repo string) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch code := er.Response.StatusCode; code {
		case http.StatusForbidden, http.StatusNotFound:
			var rl *gh.RateLimitError
			var abuse *gh.AbuseRateLimitError
			if errors.As(err, &rl) || errors.As(err, &abuse) {
				break
			}
			return fmt.Sprintf("could not %s: GitHub answered %d (%s). The token cannot read the pull requests of %s/%s: "+
				"add `pull-requests: write` (which includes read) under `permissions:` in the workflow, or set pr-from-commit: false.",
				doing, code, er.Message, owner, repo)
		case http.StatusUnprocessableEntity:
			return fmt.Sprintf("could not %s: GitHub does not know the commit (422 %s); was it pushed to this repository?", doing, er.Message)
		}
	}
	return explain(err, doing, owner, repo, 0)
}

func parseUnix(s string) (time.Time, error) {
	var secs int64
	if _, err := fmt.Sscan(s, &secs); err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0), nil
}
