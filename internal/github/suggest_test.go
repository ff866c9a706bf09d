package github

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// withEdit is failing() whose finding has a manifest edit of k8s/api.yaml line 14.
func withEdit() *report.Report {
	r := failing()
	r.Workloads[0].Findings[0].Edit = &report.ManifestEdit{File: "k8s/api.yaml", Line: 14, Path: "containers[api].env[DB_PORT]", What: "DB_PORT",
		Old: `              value: "abc"`, New: "              value: \"5432\" # ```", Before: `"5432"`, After: `"abc"`}
	return r
}

// A patch whose new side shows lines 12 to 16 of k8s/api.yaml (14 is the changed one).
const apiPatch = "@@ -12,5 +12,5 @@ spec:\n           env:\n             - name: DB_PORT\n-              value: \"5432\"\n+              value: \"abc\"\n             - name: DB_HOST\n               value: db"

const suggestionMarker = "<!-- rollout-gate:suggestion,repo=octo/shop,run=4242,job=deploy,path=k8s/api.yaml,line=14 -->"

func TestPatchLines(t *testing.T) {
	t.Parallel()
	got := patchLines(apiPatch + "\n@@ -40 +41,2 @@\n+a\n+b\n\\ No newline at end of file")
	want := map[int]bool{12: true, 13: true, 14: true, 15: true, 16: true, 41: true, 42: true}
	if jsonOf(got) != jsonOf(want) {
		t.Errorf("lines %s, want %s", jsonOf(got), jsonOf(want))
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// The fix lands as a GitHub suggestion on the manifest line, only when that line is in the
// pull request's diff, and once per run.
func TestReviewSuggestion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		event    string
		files    []map[string]any
		existing []map[string]any // review comments already there
		post     bool
	}{
		{name: "the line is in the diff", event: "pull_request",
			files: []map[string]any{{"filename": "README.md", "patch": "@@ -1 +1 @@\n-a\n+b"}, {"filename": "k8s/api.yaml", "patch": apiPatch}}, post: true},
		{name: "the file is in the diff, the line is not", event: "pull_request",
			files: []map[string]any{{"filename": "k8s/api.yaml", "patch": "@@ -40,2 +40,2 @@\n-x\n+y\n z"}}},
		{name: "the file is not in the pull request", event: "pull_request",
			files: []map[string]any{{"filename": "README.md", "patch": "@@ -14 +14 @@\n-a\n+b"}}},
		{name: "already suggested by this run", event: "pull_request",
			files:    []map[string]any{{"filename": "k8s/api.yaml", "patch": apiPatch}},
			existing: []map[string]any{comment(50, "github-actions[bot]", "earlier\n\n"+suggestionMarker+"\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.event, `{"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`)
			h.stubNewComment(7)
			h.api.On("GET", "/repos/octo/shop/pulls/7/files").WithQuery("per_page=100").ReplyJSON(200, tc.files)
			inDiff := tc.post || tc.existing != nil
			if inDiff {
				h.api.On("GET", "/repos/octo/shop/pulls/7/comments").WithQuery("per_page=100").ReplyJSON(200, append([]map[string]any{
					comment(49, "mallory", "not ours\n\n"+suggestionMarker+"\n")}, tc.existing...))
			}
			if tc.post {
				h.api.On("POST", "/repos/octo/shop/pulls/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
					b2 := map[string]any{}
					if err := json.Unmarshal(b, &b2); err != nil {
						t.Errorf("review comment: %v", err)
						return
					}
					if b2["commit_id"] != headSHA || b2["path"] != "k8s/api.yaml" || b2["line"] != float64(14) || b2["side"] != "RIGHT" {
						t.Errorf("review comment at %v", b2)
					}
					want := "````suggestion\n              value: \"5432\" # ```\n````\n\n" + suggestionMarker + "\n"
					if body, _ := b2["body"].(string); !strings.HasSuffix(body, want) {
						t.Errorf("review comment body %q does not end with %q", body, want)
					}
				}).ReplyJSON(201, map[string]any{"id": 60})
			}
			wantNoWarnings(t, h.publish(withEdit(), ""))
			if got := strings.Contains(h.stdout.String(), "suggested the fix on k8s/api.yaml line 14"); got != tc.post {
				t.Errorf("notice of a suggestion: %v, want %v\n%s", got, tc.post, h.stdout.String())
			}
		})
	}
}

// On a push (the pull request is merged) or without an edit, no review comment is tried.
func TestNoSuggestionOutsidePullRequestRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", `{}`)
	h.api.On("GET", "/repos/octo/shop/commits/"+headSHA+"/pulls").ReplyJSON(200, []map[string]any{pr(11, "closed", headSHA, true, otherSHA)})
	h.stubNewComment(11)
	wantNoWarnings(t, h.publish(withEdit(), ""))

	h = newHarness(t, "pull_request", `{"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`)
	h.stubNewComment(7)
	wantNoWarnings(t, h.publish(failing(), "")) // no edit: not even the files are listed
}

// GitHub refusing the review comment (a line it no longer has: 422) is a warning; the issue
// comment, the summary and the outputs stand.
func TestSuggestionRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`)
	h.stubNewComment(7)
	h.api.On("GET", "/repos/octo/shop/pulls/7/files").ReplyJSON(200, []map[string]any{{"filename": "k8s/api.yaml", "patch": apiPatch}})
	h.api.On("GET", "/repos/octo/shop/pulls/7/comments").ReplyJSON(200, []map[string]any{})
	h.api.On("POST", "/repos/octo/shop/pulls/7/comments").Reply(422, `{"message":"Validation Failed","errors":[{"resource":"PullRequestReviewComment","code":"custom","field":"pull_request_review_thread.line","message":"could not be resolved"}]}`)
	warnings := h.publish(withEdit(), "")
	if len(warnings) != 1 {
		t.Fatalf("want one warning, got %q", warnings)
	}
	mustContain(t, "warning", warnings[0], "no review suggestion on k8s/api.yaml:14", "422 Validation Failed", "the gate's verdict is unchanged")
	mustContain(t, "stdout", h.stdout.String(), "::notice::rollout-gate posted its comment on pull request #7")
	if h.outputs()["verdict"] != "failed" {
		t.Errorf("outputs not written")
	}
}

// The annotation stands on the line that sets the value, and says what to set it to.
func TestAnnotationOnTheEditedLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := withEdit()
	r.Workloads[0].Source = &report.Source{File: "k8s/api.yaml", Line: 1}
	p := &Publisher{Getenv: func(string) string { return "" }, Stdout: &out, CommentMode: CommentNever}
	wantNoWarnings(t, p.Publish(context.Background(), r, ""))
	want := "::error file=k8s/api.yaml,line=14,title=rollout-gate%3A deployment/api failed (missing-secret-key)::" +
		"deployment/api failed: key DB_PASSWORD missing from Secret production/api-db-credentials%0AFix: set DB_PORT back to \"5432\" (the revision before)\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}
