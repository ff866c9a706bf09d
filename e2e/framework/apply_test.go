package framework

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// TestApplyCreatesThenUpdates: the first Apply creates the workload, a second one of a changed
// copy updates it in place, as a new revision of the same object.
func TestApplyCreatesThenUpdates(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	d := Deployment("ns", "api")
	Apply(t, c, d)
	d = Deployment("ns", "api", "--exit-code", "1")
	d.Spec.Replicas = ptr.To[int32](3)
	Apply(t, c, d)
	got, err := c.AppsV1().Deployments("ns").Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the applied deployment: %v", err)
	}
	if *got.Spec.Replicas != 3 || len(got.Spec.Template.Spec.Containers[0].Args) != 2 {
		t.Errorf("after the second Apply: replicas %d args %v, want 3 and the new args", *got.Spec.Replicas, got.Spec.Template.Spec.Containers[0].Args)
	}
	Apply(t, c, StatefulSet("ns", "db"))
	Apply(t, c, DaemonSet("ns", "agent"))
	if _, err := c.AppsV1().StatefulSets("ns").Get(context.Background(), "db", metav1.GetOptions{}); err != nil {
		t.Errorf("statefulset/db was not created: %v", err)
	}
	if _, err := c.AppsV1().DaemonSets("ns").Get(context.Background(), "agent", metav1.GetOptions{}); err != nil {
		t.Errorf("daemonset/agent was not created: %v", err)
	}
}

func TestApplyRefusesOtherKinds(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Apply(r, fake.NewClientset(), &corev1.ConfigMap{}) }()
	<-done
	if r.msg != "apply: unsupported *v1.ConfigMap" {
		t.Errorf("message %q, want Apply to refuse a ConfigMap by its type", r.msg)
	}
}
