package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

const (
	testToken = "ghs_test_token_123"
	headSHA   = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	// marker is the sticky marker of the harness's job for the failing() target.
	marker = "<!-- rollout-gate:repo=octo/shop,workflow=.github/workflows/deploy.yml,job=deploy,key=production -->"
)

var fixedNow = time.Date(2026, 4, 4, 8, 30, 0, 0, time.UTC)

func failing() *report.Report {
	return &report.Report{
		SchemaVersion: 1, Verdict: report.VerdictFailed, Namespace: "production",
		StartedAt: fixedNow.Add(-time.Minute), FinishedAt: fixedNow,
		Workloads: []report.Workload{{
			Kind: "Deployment", Namespace: "production", Name: "api", Revision: "5", Verdict: report.VerdictFailed,
			Reason: "CreateContainerConfigError", Source: &report.Source{File: "k8s/api.yaml", Line: 12},
			Findings: []report.Finding{{
				Cause: report.CauseMissingSecretKey, Pod: "api-7d4b9c-xkp2z", Container: "api",
				Summary:    "key DB_PASSWORD missing from Secret production/api-db-credentials",
				Confidence: report.ConfidenceHigh,
				Fix:        []string{"# add the key", "kubectl rollout restart deployment/api -n production"},
			}},
		}},
	}
}

func healthy() *report.Report {
	return &report.Report{
		SchemaVersion: 1, Verdict: report.VerdictHealthy, Namespace: "production",
		Workloads: []report.Workload{{Kind: "Deployment", Namespace: "production", Name: "api", Verdict: report.VerdictHealthy,
			Pods: []report.Pod{{Name: "api-1", Ready: true}}}},
	}
}

// harness is the environment a runner gives a container action: the GITHUB_* variables, the
// event payload and the command files (githubtest.Runner), stdout in a buffer, and the fake API.
type harness struct {
	t      *testing.T
	api    *githubtest.API
	runner *githubtest.Runner
	env    map[string]string // the runner's, with the repository, the commit and the API URL
	stdout bytes.Buffer
	sleeps []time.Duration
}

func newHarness(t *testing.T, eventName, payload string) *harness {
	t.Helper()
	h := &harness{t: t, api: githubtest.NewAPI(t, testToken), runner: githubtest.NewRunner(t, eventName, payload)}
	h.env = h.runner.Env
	h.env["GITHUB_REPOSITORY"] = "octo/shop"
	h.env["GITHUB_SHA"] = headSHA
	h.env["GITHUB_API_URL"] = h.api.URL()
	h.env["GITHUB_SERVER_URL"] = "https://github.com"
	h.env["GITHUB_WORKFLOW"] = "deploy"
	h.env["GITHUB_WORKFLOW_REF"] = "octo/shop/.github/workflows/deploy.yml@refs/heads/main"
	h.env["GITHUB_JOB"] = "deploy"
	h.env["GITHUB_RUN_ID"] = "4242"
	h.env["GITHUB_RUN_ATTEMPT"] = "2"
	return h
}

func (h *harness) publisher(mode string) *Publisher {
	return &Publisher{
		Getenv:      h.runner.Getenv,
		Stdout:      &h.stdout,
		HTTPClient:  h.api.Client(),
		Sleep:       func(_ context.Context, d time.Duration) error { h.sleeps = append(h.sleeps, d); return nil },
		Now:         func() time.Time { return fixedNow },
		Token:       testToken,
		CommentMode: mode,
	}
}

func (h *harness) publish(r *report.Report, mode string) []string {
	return h.publisher(mode).Publish(context.Background(), r, "/github/workspace/rollout-gate.json")
}

// outputs parses GITHUB_OUTPUT back, checking each delimiter is random and fresh.
func (h *harness) outputs() map[string]string { h.t.Helper(); return h.runner.Outputs(h.t) }

func (h *harness) summary() string { h.t.Helper(); return h.runner.Summary(h.t) }

// stubUser answers GET /user like GITHUB_TOKEN does.
func (h *harness) stubUser() {
	h.api.On("GET", "/user").Reply(403, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user"}`)
}

// stubNewComment stubs a run that finds no comment of its own on the pull request and writes one.
func (h *harness) stubNewComment(number int) {
	h.stubUser()
	h.stubComments(number, "", nil)
	h.api.On("POST", fmt.Sprintf("/repos/octo/shop/issues/%d/comments", number)).ReplyJSON(201, map[string]any{"id": 1})
}

func (h *harness) stubComments(number int, page string, comments []map[string]any, header ...string) {
	q := "per_page=100"
	if page != "" {
		q = "page=" + page + "&per_page=100"
	}
	h.api.On("GET", fmt.Sprintf("/repos/octo/shop/issues/%d/comments", number)).WithQuery(q).ReplyJSON(200, comments, header...)
}

func comment(id int, login, body string) map[string]any {
	return map[string]any{"id": id, "body": body, "user": map[string]any{"login": login}}
}

func wantNoWarnings(t *testing.T, warnings []string) {
	t.Helper()
	if len(warnings) > 0 {
		t.Errorf("unexpected warnings: %q", warnings)
	}
}

func TestPullRequestCreatesComment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`)
	h.stubUser()
	h.stubComments(7, "", nil)
	h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
		body := githubtest.CommentBody(t, b)
		mustContain(t, "comment", body, "## ❌ deployment/api failed: key DB\\_PASSWORD missing from Secret production/api-db-credentials")
		if !strings.HasSuffix(body, "\n"+marker+"\n") || !endsWithMarker(body, marker) {
			t.Errorf("comment does not end with the marker:\n%s", body)
		}
	}).ReplyJSON(201, map[string]any{"id": 99, "html_url": "https://github.com/octo/shop/pull/7#issuecomment-99"})

	wantNoWarnings(t, h.publish(failing(), ""))

	want := "::add-mask::" + testToken + "\n" +
		"::error file=k8s/api.yaml,line=12,title=rollout-gate%3A deployment/api failed (missing-secret-key)::" +
		"deployment/api failed: key DB_PASSWORD missing from Secret production/api-db-credentials%0AFix: kubectl rollout restart deployment/api -n production\n" +
		"::notice::rollout-gate posted its comment on pull request #7: https://github.com/octo/shop/pull/7#issuecomment-99\n"
	if got := h.stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	outs := h.outputs()
	wantOuts := map[string]string{"verdict": "failed", "cause": "missing-secret-key", "rolled-back": "false", "report-path": "/github/workspace/rollout-gate.json", "ignored": ""}
	if fmt.Sprint(outs) != fmt.Sprint(wantOuts) {
		t.Errorf("outputs = %v, want %v", outs, wantOuts)
	}
	mustContain(t, "summary", h.summary(), "## ❌ deployment/api failed")
	if strings.Contains(h.summary(), "<!--") {
		t.Errorf("the summary needs no marker")
	}
}

func TestRerunUpdatesInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request_target", `{"pull_request":{"number":7}}`)
	h.stubUser()
	h.stubComments(7, "", []map[string]any{
		comment(10, "mallory", "I pasted your marker "+marker),
		comment(11, "github-actions[bot]", "## ❌ old report\n\n"+marker+"\n"),
		comment(12, "github-actions[bot]", "another deploy\n<!-- rollout-gate:staging:deployment/api -->\n"),
	})
	want, _ := json.Marshal(map[string]string{"body": report.Markdown(failing(), report.MarkdownOptions{Limit: report.CommentLimit,
		Marker: stateLine(report.VerdictFailed, headSHA) + "\n" + marker, Run: harnessRun()})})
	h.api.On("PATCH", "/repos/octo/shop/issues/comments/11").WantBody(string(want)).
		ReplyJSON(200, map[string]any{"id": 11, "html_url": "https://github.com/octo/shop/pull/7#issuecomment-11"})

	wantNoWarnings(t, h.publish(failing(), CommentOnFailure))
	mustContain(t, "stdout", h.stdout.String(), "::notice::rollout-gate updated its comment on pull request #7")
}

func TestTokenUserOwnsComments(t *testing.T) {
	t.Parallel()
	// With a personal token GET /user works, and that login (not the bot) owns the comment.
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.api.On("GET", "/user").ReplyJSON(200, map[string]any{"login": "deploy-bot"})
	h.stubComments(7, "", []map[string]any{
		comment(11, "github-actions[bot]", marker),
		comment(12, "deploy-bot", marker),
	})
	h.api.On("PATCH", "/repos/octo/shop/issues/comments/12").ReplyJSON(200, map[string]any{"id": 12})
	wantNoWarnings(t, h.publish(failing(), CommentAlways))
}

func TestCommentsArePaged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	var page1 []map[string]any
	for i := range 100 {
		page1 = append(page1, comment(1000+i, "someone", "lgtm"))
	}
	next := fmt.Sprintf(`<%s/repositories/1/issues/7/comments?page=2&per_page=100>; rel="next", <%s/repositories/1/issues/7/comments?page=3&per_page=100>; rel="last"`, h.api.URL(), h.api.URL())
	h.stubComments(7, "", page1, "Link", next)
	next = fmt.Sprintf(`<%s/repositories/1/issues/7/comments?page=3&per_page=100>; rel="next"`, h.api.URL())
	h.stubComments(7, "2", []map[string]any{comment(2000, "someone", "nit")}, "Link", next)
	h.stubComments(7, "3", []map[string]any{comment(3000, "github-actions[bot]", marker)})
	h.api.On("PATCH", "/repos/octo/shop/issues/comments/3000").ReplyJSON(200, map[string]any{"id": 3000})
	wantNoWarnings(t, h.publish(failing(), ""))
}

func TestFindsPullRequestByCommit(t *testing.T) {
	t.Parallel()
	open := []map[string]any{{"number": 3, "state": "closed"}, {"number": 5, "state": "open"}}
	for _, tc := range []struct {
		event, payload, sha string
	}{
		{"push", `{"after":"` + headSHA + `"}`, headSHA},
		{"workflow_run", `{"workflow_run":{"head_sha":"abc123","pull_requests":[]}}`, "abc123"},
		{"deployment", `{"deployment":{"sha":"def456","environment":"production"}}`, "def456"},
		{"deployment_status", `{"deployment":{"sha":"def456"},"deployment_status":{"state":"success"}}`, "def456"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.event, tc.payload)
			h.api.On("GET", "/repos/octo/shop/commits/"+tc.sha+"/pulls").WithQuery("per_page=100").ReplyJSON(200, open)
			h.stubNewComment(5)
			wantNoWarnings(t, h.publish(failing(), ""))
		})
	}
}

func TestPushWithoutOpenPullRequestSkips(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", `{}`)
	h.api.On("GET", "/repos/octo/shop/commits/"+headSHA+"/pulls").ReplyJSON(200, []map[string]any{{"number": 3, "state": "closed"}})
	wantNoWarnings(t, h.publish(failing(), ""))
	mustContain(t, "stdout", h.stdout.String(), `::notice::no PR comment: commit 6dcb09b belongs to no open or merged pull request (a direct push?).`)
	if h.outputs()["verdict"] != "failed" {
		t.Errorf("outputs not written")
	}
}

func TestIssueComment(t *testing.T) {
	t.Parallel()
	t.Run("on a pull request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "issue_comment", `{"issue":{"number":9,"pull_request":{"url":"x"}},"comment":{"body":"/deploy"}}`)
		h.stubNewComment(9)
		wantNoWarnings(t, h.publish(failing(), ""))
	})
	t.Run("on an issue", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "issue_comment", `{"issue":{"number":9},"comment":{"body":"/deploy"}}`)
		wantNoWarnings(t, h.publish(failing(), ""))
		mustContain(t, "stdout", h.stdout.String(), "::notice::no PR comment")
	})
}

func TestExplicitPRNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "workflow_dispatch", `{"inputs":{}}`)
	h.stubNewComment(42)
	p := h.publisher("")
	p.PRNumber = 42
	wantNoWarnings(t, p.Publish(context.Background(), failing(), ""))
}

func TestCommentKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	h.stubComments(7, "", []map[string]any{comment(11, "github-actions[bot]", marker)}) // another key's comment
	h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
		mustContain(t, "comment", githubtest.CommentBody(t, b), "<!-- rollout-gate:repo=octo/shop,workflow=.github/workflows/deploy.yml,job=deploy,key=eu-west/production -->")
	}).ReplyJSON(201, map[string]any{"id": 12})
	p := h.publisher("")
	p.CommentKey = "eu-west/production"
	wantNoWarnings(t, p.Publish(context.Background(), failing(), ""))
}

func TestOnFailureModes(t *testing.T) {
	t.Parallel()
	t.Run("healthy without a previous comment posts nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
		h.stubUser()
		h.stubComments(7, "", []map[string]any{comment(1, "someone", "lgtm")})
		wantNoWarnings(t, h.publish(healthy(), CommentOnFailure))
		if strings.Contains(h.stdout.String(), "comment on pull request") {
			t.Errorf("commented: %s", h.stdout.String())
		}
	})
	t.Run("healthy after a failure updates the comment", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
		h.stubUser()
		h.stubComments(7, "", []map[string]any{comment(11, "github-actions[bot]", "## ❌ deployment/api failed\n\n"+marker+"\n")})
		h.api.On("PATCH", "/repos/octo/shop/issues/comments/11").CheckBody(func(t githubtest.TB, b []byte) {
			body := githubtest.CommentBody(t, b)
			mustContain(t, "comment", body, "## ✅ deployment/api rolled out healthy",
				"Fixed by commit 6dcb09b: the rollout is healthy again; the failure this comment reported before is resolved.", marker)
		}).ReplyJSON(200, map[string]any{"id": 11})
		wantNoWarnings(t, h.publish(healthy(), CommentOnFailure))
	})
	t.Run("always posts a healthy report", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
		h.stubUser()
		h.stubComments(7, "", nil)
		h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
			body := githubtest.CommentBody(t, b)
			mustContain(t, "comment", body, "## ✅ deployment/api rolled out healthy")
			if strings.Contains(body, "now healthy") {
				t.Errorf("a first healthy comment says it recovered")
			}
		}).ReplyJSON(201, map[string]any{"id": 1})
		wantNoWarnings(t, h.publish(healthy(), CommentAlways))
	})
	t.Run("never makes no request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
		wantNoWarnings(t, h.publish(failing(), CommentNever))
		if h.outputs()["verdict"] != "failed" || !strings.Contains(h.summary(), "failed") {
			t.Errorf("summary or outputs missing")
		}
	})
	t.Run("an unknown mode warns", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
		warnings := h.publish(failing(), "sometimes")
		if len(warnings) != 1 || !strings.Contains(warnings[0], `"sometimes"`) {
			t.Errorf("warnings = %q", warnings)
		}
	})
}

// TestGitHubSaysNo checks that every refusal ends in one warning that says what to do, after the
// summary and outputs were written.
func TestGitHubSaysNo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		stub   func(h *harness)
		want   []string
		sleeps []time.Duration
	}{
		{
			name: "403 read-only token",
			stub: func(h *harness) {
				h.stubComments(7, "", nil)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(403,
					`{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`)
			},
			want: []string{"403 Resource not accessible by integration", "add `pull-requests: write` under `permissions:`", "forks", "read-only token",
				"The job summary and outputs were written; the gate's verdict is unchanged."},
		},
		{
			name: "404",
			stub: func(h *harness) {
				h.stubComments(7, "", nil)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(404, `{"message":"Not Found"}`)
			},
			want: []string{"not found (404 Not Found)", "pull request #7 of octo/shop", "pull-requests: write"},
		},
		{
			name: "422 too long, twice",
			stub: func(h *harness) {
				h.stubComments(7, "", nil)
				tooLong := `{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]}`
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(422, tooLong)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
					if n := len(githubtest.CommentBody(t, b)); n > shorterComment {
						t.Errorf("second try is %d bytes, want at most %d", n, shorterComment)
					}
				}).Reply(422, tooLong)
			},
			want: []string{"GitHub rejected it (422 Validation Failed: body is too long (maximum is 65536 characters) custom)"},
		},
		{
			// A POST that failed with 500 may have been applied: the comments are listed again
			// before the one more try, never a blind chain of POSTs.
			name: "500 on the POST: looked again, posted once more, given up",
			stub: func(h *harness) {
				h.stubComments(7, "", nil)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(500, `{"message":"Server Error"}`)
				h.stubComments(7, "", nil)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(500, `{"message":"Server Error"}`)
			},
			want:   []string{"GitHub API error 500 (Server Error)"},
			sleeps: []time.Duration{time.Second},
		},
		{
			name: "rate limit resets too late to wait",
			stub: func(h *harness) {
				reset := strconv.FormatInt(fixedNow.Add(40*time.Minute).Unix(), 10)
				h.api.On("GET", "/repos/octo/shop/issues/7/comments").Reply(403,
					`{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`,
					"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset)
			},
			want: []string{"could not list the comments of the pull request: the GitHub API rate limit is used up until 2026-04-04T09:10:00Z"},
		},
		{
			name: "429 retried, then given up",
			stub: func(h *harness) {
				h.stubComments(7, "", nil)
				for range maxRetries + 1 {
					h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(429, `{"message":"Too Many Requests"}`, "Retry-After", "2")
				}
			},
			want:   []string{"rate limited (429 Too Many Requests) after 3 retries"},
			sleeps: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
			h.stubUser()
			tc.stub(h)
			warnings := h.publish(failing(), "")
			if len(warnings) != 1 {
				t.Fatalf("want one warning, got %q", warnings)
			}
			mustContain(t, "warning", warnings[0], tc.want...)
			mustContain(t, "stdout", h.stdout.String(), "::warning::no PR comment: ")
			if fmt.Sprint(h.sleeps) != fmt.Sprint(tc.sleeps) {
				t.Errorf("slept %v, want %v", h.sleeps, tc.sleeps)
			}
			if h.outputs()["verdict"] != "failed" {
				t.Errorf("outputs not written")
			}
			mustContain(t, "summary", h.summary(), "deployment/api failed")
		})
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		first func(s *githubtest.Stub)
		slept time.Duration
	}{
		{"429 with Retry-After", func(s *githubtest.Stub) { s.Reply(429, `{"message":"slow down"}`, "Retry-After", "7") }, 7 * time.Second},
		{"403 primary limit resetting soon", func(s *githubtest.Stub) {
			s.Reply(403, `{"message":"API rate limit exceeded"}`, "X-RateLimit-Remaining", "0",
				"X-RateLimit-Reset", strconv.FormatInt(fixedNow.Add(30*time.Second).Unix(), 10))
		}, 31 * time.Second},
		{"403 secondary limit with Retry-After", func(s *githubtest.Stub) {
			s.Reply(403, `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`, "Retry-After", "5")
		}, 5 * time.Second},
		{"403 secondary limit without headers", func(s *githubtest.Stub) {
			s.Reply(403, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
		}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
			h.stubUser()
			h.stubComments(7, "", nil)
			tc.first(h.api.On("POST", "/repos/octo/shop/issues/7/comments"))
			h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
				mustContain(t, "retried body", githubtest.CommentBody(t, b), marker) // the body is sent again, whole
			}).ReplyJSON(201, map[string]any{"id": 1})
			wantNoWarnings(t, h.publish(failing(), ""))
			if len(h.sleeps) != 1 || h.sleeps[0] != tc.slept {
				t.Errorf("slept %v, want [%v]", h.sleeps, tc.slept)
			}
		})
	}
}

// A POST answered 502 is not sent again blindly: the comments are listed first, and a comment
// that did land is edited instead of posted twice.
func TestPostIsNotRetriedBlindly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		landed bool
	}{{"the comment did not land", false}, {"the comment landed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
			h.stubUser()
			h.stubComments(7, "", nil)
			h.api.On("POST", "/repos/octo/shop/issues/7/comments").Reply(502, `{"message":"Bad Gateway"}`)
			if tc.landed {
				h.stubComments(7, "", []map[string]any{comment(21, "github-actions[bot]", "## ❌\n"+marker)})
				h.api.On("PATCH", "/repos/octo/shop/issues/comments/21").ReplyJSON(200, map[string]any{"id": 21})
			} else {
				h.stubComments(7, "", nil)
				h.api.On("POST", "/repos/octo/shop/issues/7/comments").ReplyJSON(201, map[string]any{"id": 22})
			}
			wantNoWarnings(t, h.publish(failing(), ""))
		})
	}
}

// A GitHub API that accepts connections and never answers: each request ends at its timeout,
// the comment is given up with a warning, and the outputs and summary are already written.
func TestHungAPIIsBounded(t *testing.T) {
	t.Parallel()
	srv := githubtest.Silent(t)
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.env["GITHUB_API_URL"] = srv.URL + "/api/v3"
	p := h.publisher("")
	p.HTTPClient = srv.Client()
	p.RequestTimeout = 50 * time.Millisecond
	warnings := p.Publish(context.Background(), failing(), "")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "deadline exceeded") {
		t.Errorf("warnings = %q, want one about the deadline", warnings)
	}
	if h.outputs()["verdict"] != "failed" {
		t.Errorf("outputs not written")
	}
	mustContain(t, "summary", h.summary(), "deployment/api failed")
	// The publish deadline of the caller bounds everything, whatever each request allows.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	p.RequestTimeout = time.Hour
	if warnings := p.Publish(ctx, failing(), ""); len(warnings) != 1 {
		t.Errorf("warnings = %q, want one", warnings)
	}
}

func TestRetryWaitIsCancelled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	// GitHub answers 503 to a read with Retry-After 50 s, and the job is cancelled as the wait
	// begins: the real timer's wait ends at once with the cancellation, and nothing is sent again
	// (a retry after the wait would find no stub).
	h.api.On("GET", "/repos/octo/shop/issues/7/comments").WithQuery("per_page=100").
		Reply(503, `{"message":"unavailable"}`, "Retry-After", "50")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := h.publisher("")
	var waits []time.Duration
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		cancel()
		return sleepContext(ctx, d) // the real timer
	}
	done := make(chan []string, 1)
	go func() { done <- p.Publish(ctx, failing(), "") }()
	var warnings []string
	select {
	case warnings = <-done:
	case <-time.After(25 * time.Second): // half of Retry-After: the wait was not cut short
		t.Fatal("the wait before the retry did not end when the job was cancelled")
	}
	if len(waits) != 1 || waits[0] != 50*time.Second {
		t.Errorf("waits %v, want one of 50s, as Retry-After said", waits)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "context canceled") {
		t.Errorf("warnings = %q, want one saying the job was cancelled", warnings)
	}
}

func TestEnterpriseAPIURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url string }{
		{"GHES root as the runner sets it", "/api/v3"},
		{"host only: go-github adds api/v3", ""},
		{"with a trailing slash", "/api/v3/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
			h.env["GITHUB_API_URL"] = h.api.Host() + tc.url
			h.stubNewComment(7)
			wantNoWarnings(t, h.publish(failing(), ""))
		})
	}
}

func TestClientBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ env, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://ghes.example.com/api/v3", "https://ghes.example.com/api/v3/"},
		{"https://api.acme.ghe.com", "https://api.acme.ghe.com/"},
	} {
		p := &Publisher{Getenv: func(k string) string { return map[string]string{"GITHUB_API_URL": tc.env}[k] }, Token: "t"}
		c, err := p.session().client()
		if err != nil {
			t.Fatalf("%q: %v", tc.env, err)
		}
		if got := c.BaseURL.String(); got != tc.want {
			t.Errorf("GITHUB_API_URL %q: base %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestNoTokenOrRepository(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	p := h.publisher("")
	p.Token = ""
	warnings := p.Publish(context.Background(), failing(), "")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "github-token: ${{ github.token }}") {
		t.Errorf("warnings = %q", warnings)
	}
	if strings.Contains(h.stdout.String(), "add-mask") {
		t.Errorf("masked an empty token")
	}

	// The token may come from the environment instead, and is masked then too.
	h = newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	delete(h.env, "GITHUB_REPOSITORY")
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_from_input"
	p = h.publisher("")
	p.Token = ""
	warnings = p.Publish(context.Background(), failing(), "")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "GITHUB_REPOSITORY is not set") {
		t.Errorf("warnings = %q", warnings)
	}
	if !strings.HasPrefix(h.stdout.String(), "::add-mask::ghs_from_input\n") {
		t.Errorf("token not masked first:\n%s", h.stdout.String())
	}
}

func TestOutsideActionsWritesNoFiles(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := &Publisher{Getenv: func(string) string { return "" }, Stdout: &out, CommentMode: CommentNever}
	wantNoWarnings(t, p.Publish(context.Background(), failing(), ""))
	if !strings.HasPrefix(out.String(), "::error file=k8s/api.yaml,line=12,") {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestAnnotationsAtMostTen(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", `{}`)
	r := failing()
	base := r.Workloads[0]
	r.Workloads = nil
	for i := range 12 {
		w := base
		w.Name = fmt.Sprintf("api-%02d", i)
		w.Source = &report.Source{File: "k8s/all.yaml", Line: 1 + 30*i}
		r.Workloads = append(r.Workloads, w)
	}
	r.Workloads = append(r.Workloads, report.Workload{Kind: "Deployment", Name: "no-source", Verdict: report.VerdictFailed},
		report.Workload{Kind: "Deployment", Name: "fine", Verdict: report.VerdictHealthy, Source: &report.Source{File: "k8s/fine.yaml", Line: 1}})
	wantNoWarnings(t, h.publisher(CommentNever).Publish(context.Background(), r, ""))
	var errs []string
	for _, l := range strings.Split(h.stdout.String(), "\n") {
		if strings.HasPrefix(l, "::error ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 10 {
		t.Fatalf("%d error annotations, want 10:\n%s", len(errs), h.stdout.String())
	}
	if want := "::error file=k8s/all.yaml,line=271,title=rollout-gate%3A deployment/api-09 failed (missing-secret-key)::deployment/api-09 failed: "; !strings.HasPrefix(errs[9], want) {
		t.Errorf("last annotation %q, want prefix %q", errs[9], want)
	}
	mustContain(t, "summary", h.summary(), "GitHub shows at most 10 error annotations per step; these failing workloads were not annotated: deployment/api-10 (k8s/all.yaml:301), deployment/api-11 (k8s/all.yaml:331).")
}

func TestAnnotationEscaping(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := failing()
	r.Workloads[0].Source = &report.Source{File: "k8s/a,b:c%.yaml", Line: 3}
	r.Workloads[0].Findings[0].Summary = "100% broken\r\n::error::forged"
	p := &Publisher{Getenv: func(string) string { return "" }, Stdout: &out, CommentMode: CommentNever}
	p.Publish(context.Background(), r, "")
	want := "::error file=k8s/a%2Cb%3Ac%25.yaml,line=3,title=rollout-gate%3A deployment/api failed (missing-secret-key)::" +
		"deployment/api failed: 100%25 broken ⏎ ::error::forged%0AFix: kubectl rollout restart deployment/api -n production\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}

func TestOutputsDelimiter(t *testing.T) {
	t.Parallel()
	hostile := "line\n_GitHubActionsFileCommandDelimeter_\nverdict<<EOF\nhealthy\nEOF\nghadelimiter_x"
	enc := outputs([][2]string{{"report-path", hostile}, {"verdict", "failed"}})
	got := githubtest.ParseOutputs(t, enc)
	if got["report-path"] != hostile || got["verdict"] != "failed" || len(got) != 2 {
		t.Errorf("outputs round trip: %q", got)
	}
	if enc == outputs([][2]string{{"report-path", hostile}, {"verdict", "failed"}}) {
		t.Errorf("delimiters are not random")
	}
}

func TestSummaryAppendsWithinStepLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", `{}`)
	prior := strings.Repeat("x", report.SummaryLimit-3000)
	if err := os.WriteFile(h.env["GITHUB_STEP_SUMMARY"], []byte(prior), 0o644); err != nil {
		t.Fatal(err)
	}
	r := failing()
	r.Workloads[0].Findings[0].Logs = &report.LogExcerpt{Container: "api", Lines: []string{strings.Repeat("log ", 70)}}
	for range 40 {
		r.Workloads[0].Findings = append(r.Workloads[0].Findings, r.Workloads[0].Findings[0])
	}
	h.publisher(CommentNever).Publish(context.Background(), r, "")
	s := h.summary()
	if len(s) > report.SummaryLimit || !strings.HasPrefix(s, prior) || !strings.Contains(s, "Truncated to fit") {
		t.Errorf("summary is %d bytes (limit %d), truncated=%v", len(s), report.SummaryLimit, strings.Contains(s, "Truncated"))
	}
}

func TestStopCommands(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := StopCommands(&b, func(w io.Writer) error {
		_, err := io.WriteString(w, "::error::from a pod log\nno newline at the end")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	token, ok := strings.CutPrefix(lines[0], "::stop-commands::")
	if !ok || len(token) < 20 {
		t.Fatalf("first line %q", lines[0])
	}
	want := []string{lines[0], "::error::from a pod log", "no newline at the end", "::" + token + "::", ""}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", lines, want)
	}
	var b2 bytes.Buffer
	_ = StopCommands(&b2, func(w io.Writer) error { return nil })
	if strings.Contains(b2.String(), token) {
		t.Errorf("token reused")
	}
	boom := errors.New("boom")
	if err := StopCommands(&b2, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

func TestDefaultCommentKey(t *testing.T) {
	t.Parallel()
	r := failing()
	if got, want := DefaultCommentKey(r), "production"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	// The workloads are not part of it: a run that adds one deploys to the same target.
	more := failing()
	more.Workloads = append(more.Workloads, report.Workload{Kind: "StatefulSet", Namespace: "data", Name: "db"})
	if DefaultCommentKey(more) != DefaultCommentKey(r) {
		t.Errorf("the key changed with the workloads: %q, %q", DefaultCommentKey(more), DefaultCommentKey(r))
	}
	r.Context = "kind-prod"
	if got, want := DefaultCommentKey(r), "kind-prod/production"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
}

func TestCheckCommentMode(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"", "on-failure", "always", "never"} {
		if err := CheckCommentMode(m); err != nil {
			t.Errorf("%q: %v", m, err)
		}
	}
	if err := CheckCommentMode("Always"); err == nil {
		t.Errorf("Always accepted")
	}
}

var _ http.RoundTripper = (*retryTransport)(nil)

// With comment-author (a GitHub App's bot login), that login owns the sticky comment and GET
// /user, which installation tokens cannot call, is not asked.
func TestCommentAuthor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubComments(7, "", []map[string]any{
		comment(11, "github-actions[bot]", marker),
		comment(12, "deploy-app[bot]", marker),
	})
	h.api.On("PATCH", "/repos/octo/shop/issues/comments/12").ReplyJSON(200, map[string]any{"id": 12})
	p := h.publisher(CommentAlways)
	p.CommentAuthor = "deploy-app[bot]"
	wantNoWarnings(t, p.Publish(context.Background(), failing(), ""))
}

// harnessRun is what a comment made in the harness says it judged.
func harnessRun() *report.Run {
	return &report.Run{Commit: headSHA, CommitURL: "https://github.com/octo/shop/commit/" + headSHA,
		URL: "https://github.com/octo/shop/actions/runs/4242/attempts/2", RunID: "4242", Attempt: "2", Job: "deploy"}
}

func mustContain(t githubtest.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// Secrets (a kubeconfig's token and key given as content) are masked with the token, line by
// line, before anything else is printed; short values are left alone.
func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := &Publisher{Getenv: func(string) string { return "" }, Stdout: &out, Token: "ghs_tokenvalue1",
		Secrets: []string{"eyJhbGciOi.token", "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----\n", "short"}}
	p.Mask()
	p.Mask()
	want := "::add-mask::ghs_tokenvalue1\n::add-mask::eyJhbGciOi.token\n::add-mask::-----BEGIN KEY-----\n::add-mask::MIIEvQIBADANBg\n::add-mask::-----END KEY-----\n"
	if out.String() != want {
		t.Errorf("masks:\n%s\nwant:\n%s", out.String(), want)
	}
}
