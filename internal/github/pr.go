package github

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// event holds the parts of the webhook payloads that lead to a pull request and to the commit
// a run deployed.
type event struct {
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	Issue *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	WorkflowRun *struct {
		HeadSHA string `json:"head_sha"`
	} `json:"workflow_run"`
	Deployment *struct {
		SHA         string `json:"sha"`
		Environment string `json:"environment"`
	} `json:"deployment"`
}

// readEvent decodes GITHUB_EVENT_PATH; no path is an empty event.
func (s *session) readEvent() (event, error) {
	var ev event
	path := s.getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return ev, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("read the event payload GITHUB_EVENT_PATH: %w", err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("decode the event payload %s: %w", path, err)
	}
	return ev, nil
}

// commitEvents are the events whose pull request is found from the commit they run on.
var commitEvents = map[string]bool{"push": true, "workflow_dispatch": true, "workflow_run": true, "deployment": true, "deployment_status": true}

// commit is the commit the run judged: the pull request's head (GITHUB_SHA is a merge commit
// there, or the base branch's tip for _target), the deployment's or the triggering run's commit,
// else GITHUB_SHA.
func (s *session) commit(ev event) string {
	switch {
	case ev.PullRequest != nil && ev.PullRequest.Head.SHA != "":
		return ev.PullRequest.Head.SHA
	case ev.Deployment != nil && ev.Deployment.SHA != "":
		return ev.Deployment.SHA
	case ev.WorkflowRun != nil && ev.WorkflowRun.HeadSHA != "":
		return ev.WorkflowRun.HeadSHA
	}
	return s.getenv("GITHUB_SHA")
}

// prChoice is the pull request to comment on, or why there is none (then number is 0).
type prChoice struct {
	number int
	why    string // for the notice when there is no pull request
}

// findPR returns the pull request to comment on: the pr-number input, the one the event names,
// or, on push, workflow_dispatch, workflow_run and deployment events, the one that shipped the
// commit (see pickPR).
func (s *session) findPR(ctx context.Context, client *gh.Client, owner, repo string, ev event) (prChoice, error) {
	if s.PRNumber > 0 {
		return prChoice{number: s.PRNumber}, nil
	}
	name := s.getenv("GITHUB_EVENT_NAME")
	switch name {
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment":
		if ev.PullRequest != nil {
			return prChoice{number: ev.PullRequest.Number}, nil
		}
	case "issue_comment":
		if ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null" {
			return prChoice{number: ev.Issue.Number}, nil
		}
	}
	none := prChoice{why: fmt.Sprintf("event %q names no pull request; set the pr-number input to comment on one", name)}
	if !commitEvents[name] {
		return none, nil
	}
	if s.NoCommitPR {
		none.why = fmt.Sprintf("event %q names no pull request and pr-from-commit is false", name)
		return none, nil
	}
	sha := s.commit(ev)
	if sha == "" {
		return none, nil
	}
	prs, _, err := client.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return prChoice{}, fmt.Errorf("list the pull requests of commit %s: %w", short(sha), err)
	}
	return pickPR(prs, sha), nil
}

// pickPR chooses among the pull requests GitHub associates with a commit. For a commit on the
// default branch GitHub lists the merged pull request that brought it in; a commit can be in
// several (a branch merged into another first), and the one that shipped it is the one merged
// as that very commit (its merge commit: a merge, squash or the last commit of a rebase). Else
// the only merged one; else an open one whose head is the commit (a push to a pull request's
// branch), else the only open one. Anything less clear is no pull request, with the reason: a
// comment on the wrong pull request is worse than none.
func pickPR(prs []*gh.PullRequest, sha string) prChoice {
	var merged, open []*gh.PullRequest
	for _, pr := range prs {
		switch {
		case pr.MergedAt != nil && pr.GetMergeCommitSHA() == sha:
			return prChoice{number: pr.GetNumber()}
		case pr.MergedAt != nil:
			merged = append(merged, pr)
		case pr.GetState() == "open":
			if pr.GetHead().GetSHA() == sha {
				return prChoice{number: pr.GetNumber()}
			}
			open = append(open, pr)
		}
	}
	switch {
	case len(merged) == 1:
		return prChoice{number: merged[0].GetNumber()}
	case len(merged) > 1:
		return prChoice{why: fmt.Sprintf("commit %s is in the merged pull requests %s and none was merged as it; set the pr-number input to choose", short(sha), numbers(merged))}
	case len(open) == 1:
		return prChoice{number: open[0].GetNumber()}
	case len(open) > 1:
		return prChoice{why: fmt.Sprintf("commit %s is in the open pull requests %s; set the pr-number input to choose", short(sha), numbers(open))}
	}
	return prChoice{why: fmt.Sprintf("commit %s belongs to no open or merged pull request (a direct push?)", short(sha))}
}

func numbers(prs []*gh.PullRequest) string {
	var ns []string
	for _, pr := range prs {
		ns = append(ns, "#"+strconv.Itoa(pr.GetNumber()))
	}
	return strings.Join(ns, ", ")
}

// short is a commit's first 7 characters, as GitHub shows it.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
