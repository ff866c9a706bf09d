package rollback

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// An Argo Rollout is never rolled back half-way: Undo refuses, with Argo's abort and undo
// commands in order, and sends nothing to the cluster (no client at all here).
func TestUndoRefusesArgoRollout(t *testing.T) {
	t.Parallel()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": map[string]any{"name": "api", "namespace": "prod"},
	}}
	w, err := workload.For(u)
	if err != nil {
		t.Fatal(err)
	}
	if Applies(w.Kind()) {
		t.Error("Applies says kubectl's undo applies to an Argo Rollout")
	}
	r := &Rollbacker{}
	got := r.Undo(t.Context(), w.Kind(), report.Ref{Kind: "Rollout", Namespace: "prod", Name: "api"}, nil)
	want := "kubectl argo rollouts abort api -n prod, then kubectl argo rollouts undo api -n prod"
	if got.Status != report.RollbackRefused || !strings.Contains(got.Message, want) || !strings.Contains(got.Message, "nothing was changed") {
		t.Errorf("Undo = %s: %s; want refused with %q", got.Status, got.Message, want)
	}
}
