package app

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// TestRunHonoursAnnotations: api is past its progress deadline; its annotations decide what the
// run does with it.
func TestRunHonoursAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		annotations map[string]string
		wantCode    int
		wantVerdict report.Verdict
		wantAPI     report.Verdict
		wantRB      string // the rollback's status and a part of its message; empty for none
		args        []string
	}{
		// The rollback is tried (and finds no previous revision in this fake cluster).
		{name: "rolled back by default", wantCode: fault.ExitFailed, wantVerdict: report.VerdictFailed, wantAPI: report.VerdictFailed,
			wantRB: report.RollbackSkipped + " first deploy"},
		{name: "rollback false is never rolled back", annotations: map[string]string{workload.AnnotationRollback: "false"},
			wantCode: fault.ExitFailed, wantVerdict: report.VerdictFailed, wantAPI: report.VerdictFailed,
			wantRB: report.RollbackSkipped + ` its annotation rollout-gate.io/rollback is "false": not rolled back`},
		// The attacker's side: an ignore on a broken workload is refused by default, and under
		// all a run that judged nothing is not a pass.
		{name: "ignore is refused by default: judged and failed", annotations: map[string]string{workload.AnnotationIgnore: "true"},
			wantCode: fault.ExitFailed, wantVerdict: report.VerdictFailed, wantAPI: report.VerdictFailed,
			wantRB: report.RollbackSkipped + " first deploy"},
		{name: "ignored under all: nothing was judged, exit 3", args: []string{"--workload-annotations", "all"},
			annotations: map[string]string{workload.AnnotationIgnore: "true"},
			wantCode:    fault.ExitCannotEvaluate, wantVerdict: report.VerdictError, wantAPI: report.VerdictSkipped},
		{name: "a bad value is invalid input", annotations: map[string]string{workload.AnnotationRollback: "never"},
			wantCode: fault.ExitInvalid, wantVerdict: report.VerdictError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := rollingOut("api", true)
			objs[0].(*appsv1.Deployment).Annotations = tt.annotations
			r, res := runAgainst(t, objs, Deps{}, append([]string{"--workload", "deploy/api", "--timeout", "1m", "--rollback", "--dry-run"}, tt.args...)...)
			if res.ExitCode() != tt.wantCode || r.Verdict != tt.wantVerdict {
				t.Fatalf("exit %d verdict %s (err %v), want %d %s", res.ExitCode(), r.Verdict, r.Message, tt.wantCode, tt.wantVerdict)
			}
			if tt.wantCode == fault.ExitInvalid {
				if !strings.Contains(r.Message, "deployment/api") || !strings.Contains(r.Message, workload.AnnotationRollback) {
					t.Errorf("message %q does not name the object and the annotation", r.Message)
				}
				return
			}
			api := r.Workloads[0]
			if tt.wantCode == fault.ExitCannotEvaluate && (!strings.Contains(r.Message, "nothing was judged") || !strings.Contains(r.Message, "rollout-gate.io/ignore")) {
				t.Errorf("message %q does not say nothing was judged, and why", r.Message)
			}
			if len(api.Overrides) != len(tt.annotations) {
				t.Errorf("overrides %+v, want one per annotation %v", api.Overrides, tt.annotations)
			}
			if api.Verdict != tt.wantAPI {
				t.Errorf("deployment/api %s, want %s", api.Verdict, tt.wantAPI)
			}
			got := ""
			if api.Rollback != nil {
				got = api.Rollback.Status + " " + api.Rollback.Message
			}
			if (tt.wantRB == "") != (got == "") || !strings.HasPrefix(got, tt.wantRB) {
				t.Errorf("rollback %q, want %q", got, tt.wantRB)
			}
		})
	}
}

// TestRunNamesAnIgnoredWorkload: under all, a healthy run with an ignored workload names it in the
// headline and keeps its overrides; it is not a plain pass.
func TestRunNamesAnIgnoredWorkload(t *testing.T) {
	t.Parallel()
	objs := rollingOut("payments", true)
	objs[0].(*appsv1.Deployment).Annotations = map[string]string{workload.AnnotationIgnore: "true"}
	objs = append(objs, completeRollout("api")...)
	r, res := runAgainst(t, objs, Deps{}, "--workload", "deploy/payments", "--workload", "deploy/api", "--timeout", "1m", "--soak", "0s", "--workload-annotations", "all")
	if res.ExitCode() != fault.ExitHealthy || r.Verdict != report.VerdictHealthy {
		t.Fatalf("verdict %s (%s), want healthy", r.Verdict, r.Message)
	}
	if h := r.Headline(); !strings.Contains(h, "deployment/payments was not checked: rollout-gate.io/ignore") {
		t.Errorf("headline %q does not name the ignored workload", h)
	}
	if got := r.IgnoredRefs(); len(got) != 1 || got[0] != "deployment/payments" {
		t.Errorf("ignored %v, want [deployment/payments]", got)
	}
}
