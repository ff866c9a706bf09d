package github

import (
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// ignoredPayments is a healthy run in which deployment/payments was not checked: its own
// rollout-gate.io/ignore was applied (--workload-annotations all), and deployment/api asked for a
// looser soak that was refused.
func ignoredPayments() *report.Report {
	r := healthy()
	r.Workloads[0].Overrides = []report.Override{{Annotation: "rollout-gate.io/soak", Value: "0s", Loosens: true, Why: "not applied: it would loosen the run's settings"}}
	r.Workloads = append(r.Workloads, report.Workload{Kind: "Deployment", Namespace: "production", Name: "payments", Verdict: report.VerdictSkipped,
		Reason: "Ignored", Overrides: []report.Override{{Annotation: "rollout-gate.io/ignore", Value: "true", Applied: true, Loosens: true, Why: "applied"}}})
	return r
}

// TestIgnoredWorkloadIsVisible: an override never passes in silence: one warning per workload,
// the ignored output, a headline that is not ✅, and comment: on-failure posts.
func TestIgnoredWorkloadIsVisible(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", `{"pull_request":{"number":7}}`)
	h.stubUser()
	h.stubComments(7, "", nil)
	h.api.On("POST", "/repos/octo/shop/issues/7/comments").CheckBody(func(t githubtest.TB, b []byte) {
		body := githubtest.CommentBody(t, b)
		mustContain(t, "comment", body, "## ⚠️ deployment/payments was not checked: rollout-gate.io/ignore; deployment/api rolled out healthy")
	}).ReplyJSON(201, map[string]any{"id": 1})
	warnings := h.publish(ignoredPayments(), CommentOnFailure)
	if len(warnings) != 2 || !strings.Contains(warnings[0], "deployment/api") || !strings.Contains(warnings[0], "rollout-gate.io/soak=0s: not applied") ||
		!strings.Contains(warnings[1], "deployment/payments was not checked: rollout-gate.io/ignore") {
		t.Errorf("warnings %q, want one for each workload with overrides", warnings)
	}
	if n := strings.Count(h.stdout.String(), "::warning::"); n != 2 {
		t.Errorf("%d ::warning:: lines, want 2:\n%s", n, h.stdout.String())
	}
	if got := h.outputs()["ignored"]; got != "deployment/payments" {
		t.Errorf("output ignored = %q, want deployment/payments", got)
	}
	if !strings.Contains(h.summary(), "## ⚠️ deployment/payments was not checked") {
		t.Errorf("summary headline does not name the ignored workload:\n%s", h.summary())
	}
}
