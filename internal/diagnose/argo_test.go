package diagnose

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// An Argo Rollout's fixes are Argo's: `kubectl rollout` and kubectl's set commands do not know the
// kind, so status and undo go through `kubectl argo rollouts` (abort, then undo) and template
// edits through the manifest.
func TestArgoRolloutFixCommands(t *testing.T) {
	t.Parallel()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": map[string]any{"name": "api", "namespace": "prod"},
		"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "app"}}}}},
	}}
	wl, err := workload.For(u)
	if err != nil {
		t.Fatal(err)
	}
	ev := &evidence{Previous: &corev1.PodTemplateSpec{}}
	workloadInfo(ev, wl)
	got := strings.Join(append(append(ev.cmdStatus(), ev.cmdUndo()...),
		ev.cmdSetEnv("app", "A", "1"), ev.cmdSetImage("app", "app:v1"), ev.cmdSetResources("app", "--limits=memory=1Gi")), "\n")
	for _, want := range []string{
		"kubectl argo rollouts status api -n prod",
		"kubectl argo rollouts abort api -n prod\nkubectl argo rollouts undo api -n prod",
		"# in the workload's manifest, set env A=1 in container app; then apply it again",
		"set the image of container app to app:v1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("fixes lack %q:\n%s", want, got)
		}
	}
	for _, wrong := range []string{"kubectl rollout ", "kubectl set ", "re-create the Job"} {
		if strings.Contains(got, wrong) {
			t.Errorf("fixes hold %q, which does not apply to a Rollout:\n%s", wrong, got)
		}
	}
}
