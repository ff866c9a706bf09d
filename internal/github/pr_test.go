package github

import (
	"context"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

const otherSHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

func pr(number int, state, mergeSHA string, merged bool, head string) map[string]any {
	m := map[string]any{"number": number, "state": state, "head": map[string]any{"sha": head}}
	if merged {
		m["merged_at"] = "2026-04-04T08:00:00Z"
		m["merge_commit_sha"] = mergeSHA
	}
	return m
}

// After a merge, the push to main runs on the merge commit: the gate comments on the pull
// request that shipped it, and only when that is clear.
func TestCommitFindsThePullRequestThatShippedIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, event, payload string
		prs                  []map[string]any
		want                 int    // the pull request commented on; 0: none
		notice               string // the notice when there is none
	}{
		{name: "push after a merge", event: "push", payload: `{"after":"` + headSHA + `"}`,
			prs: []map[string]any{pr(11, "closed", headSHA, true, otherSHA)}, want: 11},
		{name: "several: the one merged as this commit", event: "push", payload: `{}`,
			prs: []map[string]any{pr(9, "closed", otherSHA, true, otherSHA), pr(12, "closed", headSHA, true, otherSHA), pr(13, "open", "", false, otherSHA)}, want: 12},
		{name: "rebased: the only merged one", event: "push", payload: `{}`,
			prs: []map[string]any{pr(14, "closed", otherSHA, true, otherSHA), pr(3, "closed", "", false, otherSHA)}, want: 14},
		{name: "several merged, none as this commit", event: "push", payload: `{}`,
			prs:    []map[string]any{pr(9, "closed", otherSHA, true, otherSHA), pr(10, "closed", otherSHA, true, otherSHA)},
			notice: "::notice::no PR comment: commit 6dcb09b is in the merged pull requests #9, #10 and none was merged as it; set the pr-number input to choose."},
		{name: "push to a pull request's branch", event: "push", payload: `{}`,
			prs: []map[string]any{pr(20, "open", "", false, otherSHA), pr(21, "open", "", false, headSHA)}, want: 21},
		{name: "direct push", event: "push", payload: `{}`, prs: []map[string]any{},
			notice: "::notice::no PR comment: commit 6dcb09b belongs to no open or merged pull request (a direct push?)."},
		{name: "workflow_dispatch on main", event: "workflow_dispatch", payload: `{"inputs":{}}`,
			prs: []map[string]any{pr(11, "closed", headSHA, true, otherSHA)}, want: 11},
		{name: "deployment of a merged commit", event: "deployment", payload: `{"deployment":{"sha":"` + headSHA + `","environment":"production"}}`,
			prs: []map[string]any{pr(11, "closed", headSHA, true, otherSHA)}, want: 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.event, tc.payload)
			h.api.On("GET", "/repos/octo/shop/commits/"+headSHA+"/pulls").WithQuery("per_page=100").ReplyJSON(200, tc.prs)
			if tc.want > 0 {
				h.stubNewComment(tc.want)
			}
			wantNoWarnings(t, h.publish(failing(), ""))
			if tc.notice != "" {
				mustContain(t, "stdout", h.stdout.String(), tc.notice)
			}
			if h.outputs()["verdict"] != "failed" {
				t.Errorf("outputs not written")
			}
		})
	}
}

func TestPRFromCommitOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", `{}`)
	p := h.publisher("")
	p.NoCommitPR = true
	wantNoWarnings(t, p.Publish(context.Background(), failing(), ""))
	h.api.WantCalls(t) // not even the look-up
	mustContain(t, "stdout", h.stdout.String(), `::notice::no PR comment: event "push" names no pull request and pr-from-commit is false.`)
}

// A refused look-up is a warning that says what to do; the verdict and outputs stand.
func TestPRLookupRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		status     int
		header     []string
		want       string
	}{
		{"403", `{"message":"Resource not accessible by integration"}`, 403, nil,
			"GitHub answered 403 (Resource not accessible by integration). The token cannot read the pull requests of octo/shop: add `pull-requests: write`"},
		{"404", `{"message":"Not Found"}`, 404, nil, "GitHub answered 404 (Not Found)"},
		{"422", `{"message":"No commit found for SHA: 6dcb09b"}`, 422, nil, "GitHub does not know the commit (422 No commit found for SHA: 6dcb09b)"},
		{"429", `{"message":"Too Many Requests"}`, 429, []string{"Retry-After", "1"}, "rate limited (429 Too Many Requests) after 3 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "push", `{}`)
			tries := 1
			if tc.status == 429 {
				tries = maxRetries + 1
			}
			for range tries {
				h.api.On("GET", "/repos/octo/shop/commits/"+headSHA+"/pulls").Reply(tc.status, tc.body, tc.header...)
			}
			warnings := h.publish(failing(), "")
			if len(warnings) != 1 {
				t.Fatalf("want one warning, got %q", warnings)
			}
			mustContain(t, "warning", warnings[0], "no PR comment: could not find the pull request of the commit: ", tc.want,
				"The job summary and outputs were written; the gate's verdict is unchanged.")
			if h.outputs()["verdict"] != "failed" || !strings.Contains(h.summary(), "deployment/api failed") {
				t.Errorf("the verdict was lost: outputs %v", h.outputs())
			}
		})
	}
}

// The gate edits only the comment it wrote for this target: by the token's identity, ending
// with this job's marker. The same bot's comment for another workflow, one that quotes the
// marker and a person's copy of it are all left alone.
func TestStickyCommentIsOursOnly(t *testing.T) {
	t.Parallel()
	otherWorkflow := strings.Replace(marker, "workflow=.github/workflows/deploy.yml", "workflow=.github/workflows/preview.yml", 1)
	otherJob := strings.Replace(marker, "job=deploy,", "job=canary,", 1)
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`)
	h.stubUser()
	h.stubComments(7, "", []map[string]any{
		comment(1, "mallory", "## ❌ fake\n\n"+marker+"\n"),
		comment(2, "github-actions[bot]", "## ❌ preview\n\n"+otherWorkflow+"\n"),
		comment(3, "github-actions[bot]", "## ❌ canary\n\n"+otherJob+"\n"),
		comment(4, "github-actions[bot]", "the gate said:\n> "+marker+"\nand more text after it\n"),
	})
	h.api.On("POST", "/repos/octo/shop/issues/7/comments").ReplyJSON(201, map[string]any{"id": 5, "user": map[string]any{"login": "github-actions[bot]"}})
	wantNoWarnings(t, h.publish(failing(), ""))
	mustContain(t, "stdout", h.stdout.String(), "::notice::rollout-gate posted its comment on pull request #7")
}

// A run with another set of workloads deploys to the same target: it edits the same comment.
func TestOtherWorkloadsSameComment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	h.stubComments(7, "", []map[string]any{comment(11, "github-actions[bot]", "## ❌ old\n\n"+marker+"\n")})
	h.api.On("PATCH", "/repos/octo/shop/issues/comments/11").ReplyJSON(200, map[string]any{"id": 11})
	r := failing()
	r.Workloads = append(r.Workloads, report.Workload{Kind: "Deployment", Namespace: "production", Name: "worker", Verdict: report.VerdictHealthy})
	wantNoWarnings(t, h.publish(r, ""))
}

// The failure at one commit, then a healthy run at the next: the same comment turns green and
// names the commit that fixed it and the one it reported.
func TestHealthyRunEditsTheCommentGreen(t *testing.T) {
	t.Parallel()
	first := newHarness(t, "push", `{}`)
	first.env["GITHUB_SHA"] = otherSHA
	first.api.On("GET", "/repos/octo/shop/commits/"+otherSHA+"/pulls").ReplyJSON(200, []map[string]any{pr(11, "closed", otherSHA, true, otherSHA)})
	first.stubUser()
	first.stubComments(11, "", nil)
	var red string
	first.api.On("POST", "/repos/octo/shop/issues/11/comments").CheckBody(func(t githubtest.TB, b []byte) {
		red = githubtest.CommentBody(t, b)
	}).ReplyJSON(201, map[string]any{"id": 31, "user": map[string]any{"login": "github-actions[bot]"}})
	wantNoWarnings(t, first.publish(failing(), ""))
	if red == "" {
		t.Fatal("the failing run posted nothing")
	}

	// The fix is pushed to the pull request's branch and deployed by its workflow run.
	second := newHarness(t, "pull_request", `{"pull_request":{"number":11,"head":{"sha":"`+headSHA+`"}}}`)
	second.stubUser()
	second.stubComments(11, "", []map[string]any{comment(31, "github-actions[bot]", red)})
	second.api.On("PATCH", "/repos/octo/shop/issues/comments/31").CheckBody(func(t githubtest.TB, b []byte) {
		body := githubtest.CommentBody(t, b)
		mustContain(t, "comment", body, "## ✅ deployment/api rolled out healthy",
			"Fixed by commit 6dcb09b: the rollout is healthy again. This comment reported a failure at commit 0a1b2c3 before.",
			"<!-- rollout-gate-run:verdict=healthy,commit="+headSHA+" -->", marker)
	}).ReplyJSON(200, map[string]any{"id": 31})
	wantNoWarnings(t, second.publish(healthy(), CommentOnFailure))
	mustContain(t, "stdout", second.stdout.String(), "::notice::rollout-gate updated its comment on pull request #11")
}

// GitHub says who posted the comment: when that is not whom the gate looks for (a GitHub App's
// token without comment-author), the next run would post again, and the warning says how to stop it.
func TestPostedAsSomeoneElseWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	h.stubComments(7, "", nil)
	h.api.On("POST", "/repos/octo/shop/issues/7/comments").ReplyJSON(201, map[string]any{"id": 5, "user": map[string]any{"login": "deploy-app[bot]"}})
	warnings := h.publish(failing(), "")
	if len(warnings) != 1 {
		t.Fatalf("want one warning, got %q", warnings)
	}
	mustContain(t, "warning", warnings[0], "posted as deploy-app[bot]", "by github-actions[bot]", "set the comment-author input to deploy-app[bot]")
}

func TestWorkflowID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ref, name, want string }{
		{"octo/shop/.github/workflows/deploy.yml@refs/heads/main", "deploy", ".github/workflows/deploy.yml"},
		{"octo/shop/.github/workflows/deploy.yml@refs/pull/7/merge", "deploy", ".github/workflows/deploy.yml"},
		{"", "Deploy to prod", "Deploy to prod"},
	} {
		env := map[string]string{"GITHUB_REPOSITORY": "octo/shop", "GITHUB_WORKFLOW_REF": tc.ref, "GITHUB_WORKFLOW": tc.name}
		if got := workflowID(func(k string) string { return env[k] }); got != tc.want {
			t.Errorf("workflowID(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// The deploy broke when pull request #11 merged; the fix ships in #12. The healthy push of the
// fix turns #11's red comment green and names the commit and the pull request of the fix. A
// comment already green, another target's and someone else's are left alone.
func TestFixInAnotherPullRequestResolvesTheRedComment(t *testing.T) {
	t.Parallel()
	red := "## ❌ deployment/api failed\n\n" + stateLine(report.VerdictFailed, otherSHA) + "\n" + marker + "\n"
	other := strings.Replace(marker, "key=production", "key=staging", 1)
	for _, tc := range []struct {
		name     string
		prs      []map[string]any
		comments []map[string]any
		edit     bool
		notice   string
	}{
		{name: "fix merged in another pull request", prs: []map[string]any{pr(12, "closed", headSHA, true, otherSHA)},
			comments: []map[string]any{comment(70, "mallory", red), comment(71, "github-actions[bot]", "## ❌ x\n\n"+other+"\n"),
				{"id": 72, "body": red, "user": map[string]any{"login": "github-actions[bot]"}, "issue_url": "https://api.github.com/repos/octo/shop/issues/11"}},
			edit: true, notice: "::notice::rollout-gate marked its earlier failure resolved"},
		{name: "a direct push fixed it", prs: []map[string]any{},
			comments: []map[string]any{comment(72, "github-actions[bot]", red)}, edit: true},
		{name: "already green", prs: []map[string]any{pr(12, "closed", headSHA, true, otherSHA)},
			comments: []map[string]any{comment(72, "github-actions[bot]", "## ✅ fine\n\n"+stateLine(report.VerdictHealthy, otherSHA)+"\n"+marker+"\n"),
				comment(73, "github-actions[bot]", red)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "push", `{}`)
			h.api.On("GET", "/repos/octo/shop/commits/"+headSHA+"/pulls").ReplyJSON(200, tc.prs)
			h.stubUser()
			if len(tc.prs) > 0 {
				h.stubComments(12, "", nil)
			}
			h.api.On("GET", "/repos/octo/shop/issues/comments").WithQuery("direction=desc&per_page=100&sort=updated").ReplyJSON(200, tc.comments)
			if tc.edit {
				h.api.On("PATCH", "/repos/octo/shop/issues/comments/72").CheckBody(func(t githubtest.TB, b []byte) {
					body := githubtest.CommentBody(t, b)
					want := "Fixed by commit 6dcb09b: the rollout is healthy again. This comment reported a failure at commit 0a1b2c3 before."
					if len(tc.prs) > 0 {
						want += " The fix shipped in pull request #\u200b12." // notes are escaped like cluster text: no live reference
					}
					mustContain(t, "comment", body, "## ✅ deployment/api rolled out healthy", want, marker)
				}).ReplyJSON(200, map[string]any{"id": 72, "html_url": "https://github.com/octo/shop/pull/11#issuecomment-72"})
			}
			wantNoWarnings(t, h.publish(healthy(), CommentOnFailure))
			if tc.notice != "" {
				mustContain(t, "stdout", h.stdout.String(), tc.notice)
			}
		})
	}
}

// What a comment says it judged comes from the runner: the pull request's head (not the merge
// commit GITHUB_SHA is there), the deployment's commit and environment, the run and attempt.
func TestRunInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, event, payload, environment string
		env                               map[string]string
		want                              report.Run
	}{
		{name: "pull request", event: "pull_request", payload: `{"pull_request":{"number":7,"head":{"sha":"` + otherSHA + `"}}}`,
			want: report.Run{Commit: otherSHA, CommitURL: "https://github.com/octo/shop/commit/" + otherSHA,
				URL: "https://github.com/octo/shop/actions/runs/4242/attempts/2", RunID: "4242", Attempt: "2", Job: "deploy"}},
		{name: "deployment", event: "deployment", payload: `{"deployment":{"sha":"` + otherSHA + `","environment":"production"}}`,
			want: report.Run{Commit: otherSHA, CommitURL: "https://github.com/octo/shop/commit/" + otherSHA,
				URL: "https://github.com/octo/shop/actions/runs/4242/attempts/2", RunID: "4242", Attempt: "2", Job: "deploy", Environment: "production"}},
		{name: "the environment input wins", event: "push", payload: `{}`, environment: "staging",
			want: report.Run{Commit: headSHA, CommitURL: "https://github.com/octo/shop/commit/" + headSHA,
				URL: "https://github.com/octo/shop/actions/runs/4242/attempts/2", RunID: "4242", Attempt: "2", Job: "deploy", Environment: "staging"}},
		{name: "GitHub Enterprise, odd values", event: "push", payload: `{}`,
			env:  map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_SHA": "not-a-sha", "GITHUB_RUN_ATTEMPT": "x"},
			want: report.Run{URL: "https://ghe.example.com/octo/shop/actions/runs/4242", RunID: "4242", Attempt: "x", Job: "deploy"}},
		{name: "a server URL that is not http(s)", event: "push", payload: `{}`, env: map[string]string{"GITHUB_SERVER_URL": "javascript:x"},
			want: report.Run{Commit: headSHA, RunID: "4242", Attempt: "2", Job: "deploy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.event, tc.payload)
			for k, v := range tc.env {
				h.env[k] = v
			}
			p := h.publisher("")
			p.Environment = tc.environment
			s := p.session()
			ev, err := s.readEvent()
			if err != nil {
				t.Fatal(err)
			}
			if got := *s.runInfo(ev); got != tc.want {
				t.Errorf("runInfo\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}
