package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// The exit code follows from the verdict alone, and every way a run ends has one: healthy 0;
// failed and timeout 1; error 2 for bad input, else 3, always with a message. A run ended by a
// signal is error and 3, whatever it had found so far. (This was `settle` in cmd/gate, which
// reconciled a verdict with an error.)
func TestExitCodeFollowsFromTheVerdict(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	rows := func(vs ...report.Verdict) []report.Workload {
		var ws []report.Workload
		for i, v := range vs {
			ws = append(ws, report.Workload{Kind: "Deployment", Name: string(rune('a' + i)), Verdict: v, Message: "its message"})
		}
		return ws
	}
	tests := []struct {
		name        string
		ctx         context.Context
		workloads   []report.Workload
		err         error
		wantCode    int
		wantVerdict report.Verdict
		wantMessage string
	}{
		{"healthy", context.Background(), rows(report.VerdictHealthy, report.VerdictSkipped), nil, 0, report.VerdictHealthy, ""},
		{"failed", context.Background(), rows(report.VerdictHealthy, report.VerdictFailed, report.VerdictInterrupted), nil, 1, report.VerdictFailed, ""},
		{"timeout", context.Background(), rows(report.VerdictTimeout, report.VerdictError), nil, 1, report.VerdictTimeout, ""},
		{"a workload not evaluated", context.Background(), rows(report.VerdictHealthy, report.VerdictError), nil, 3, report.VerdictError, "deployment/b"},
		{"nothing judged", context.Background(), rows(report.VerdictSkipped), nil, 3, report.VerdictError, "nothing was judged"},
		{"invalid", context.Background(), nil, fault.Invalidf("bad -l"), 2, report.VerdictError, "bad -l"},
		{"cannot evaluate", context.Background(), nil, fault.CannotEvaluatef("forbidden"), 3, report.VerdictError, "forbidden"},
		{"plain error", context.Background(), rows(report.VerdictSkipped), errors.New("watch rollouts: boom"), 3, report.VerdictError, "boom"},
		{"throttled", context.Background(), nil, apierrors.NewTooManyRequests("slow down", 1), 3, report.VerdictError, "slow down"},
		{"server error", context.Background(), nil, apierrors.NewInternalError(errors.New("etcd")), 3, report.VerdictError, "etcd"},
		{"cancelled while failed", cancelled, rows(report.VerdictFailed), nil, 3, report.VerdictError, "cancelled"},
		{"cancelled while healthy", cancelled, rows(report.VerdictHealthy), nil, 3, report.VerdictError, "cancelled"},
		{"cancelled on bad input", cancelled, nil, fault.Invalidf("bad -l"), 3, report.VerdictError, "cancelled"},
	}
	for _, tt := range tests {
		res := settle(tt.ctx, &report.Report{Workloads: tt.workloads}, tt.err)
		r := res.Report
		if code := res.ExitCode(); code != tt.wantCode || r.Verdict != tt.wantVerdict {
			t.Errorf("%s: exit %d verdict %s, want %d %s", tt.name, code, r.Verdict, tt.wantCode, tt.wantVerdict)
		}
		if tt.wantMessage != "" && !strings.Contains(r.Message, tt.wantMessage) {
			t.Errorf("%s: message %q, want it to say %q", tt.name, r.Message, tt.wantMessage)
		}
		if r.Verdict == report.VerdictError && r.Message == "" {
			t.Errorf("%s: verdict error without a message", tt.name)
		}
		// The exit code is the verdict's: the same report with another kind of error could
		// only move 2 and 3, never 0 or 1.
		if other := (&Result{Report: r, Error: ErrorInput}).ExitCode(); r.Verdict != report.VerdictError && other != tt.wantCode {
			t.Errorf("%s: the error kind changed the exit code of verdict %s", tt.name, r.Verdict)
		}
	}
}
