package github

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// TestAnnotationFixAfterRollback: the annotation's "Fix:" is the first command of the fix, and
// for a cause whose first command is the undo, a workload the gate already rolled back must not
// be told to roll back again (it would go back one revision further).
func TestAnnotationFixAfterRollback(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		rb   *report.Rollback
		want string
	}{
		{name: "rolled back", rb: &report.Rollback{Status: report.RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true},
			want: "Fix: kubectl set image deployment/api api=api:v1 -n production"},
		{name: "not rolled back", want: "Fix: kubectl rollout undo deployment/api -n production"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			r := failing()
			r.Workloads[0].Source = &report.Source{File: "k8s/api.yaml", Line: 3}
			r.Workloads[0].Findings[0].Fix = []string{"# or roll back to the previous revision:", "kubectl rollout undo deployment/api -n production",
				"kubectl set image deployment/api api=api:v1 -n production"}
			r.Workloads[0].Rollback = tt.rb
			p := &Publisher{Getenv: func(string) string { return "" }, Stdout: &out, CommentMode: CommentNever}
			p.Publish(context.Background(), r, "")
			if !strings.Contains(out.String(), "%0A"+tt.want+"\n") {
				t.Errorf("annotation %q does not end with %q", out.String(), tt.want)
			}
		})
	}
}
