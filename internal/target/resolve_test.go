package target

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// TestSelectLeavesJobsOut: -l selects the workloads that roll out; a Job matching the selector
// (last week's failed migration, still in the namespace) is not judged again.
func TestSelectLeavesJobsOut(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"app": "shop"}
	c := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod", Labels: labels}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod", Labels: labels}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: "prod", Labels: labels}},
	)
	ws, err := Select(context.Background(), kubetest.Wrap(c), "prod", "app=shop")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Key())
	}
	if strings.Join(got, " ") != "Deployment/prod/api StatefulSet/prod/db" {
		t.Errorf("Select = %v, want the Deployment and the StatefulSet only", got)
	}
}
