package clusterenv

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestCreateNamespace(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object // what the cluster holds before
		wantErr string
	}{
		{"default ServiceAccount exists", []runtime.Object{&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "bench-1"}}}, ""},
		{"default ServiceAccount never comes", nil, "wait for ServiceAccount default in bench-1"},
		{"namespace exists", []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-1"}}}, "create namespace bench-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientset(tt.objects...)
			// The wait for a ServiceAccount that never comes ends with the context.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := CreateNamespace(ctx, c, "bench-1", map[string]string{"rollout-gate.dev/bench": "peers"})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CreateNamespace: %v", err)
				}
				ns, err := c.CoreV1().Namespaces().Get(context.Background(), "bench-1", metav1.GetOptions{})
				if err != nil || ns.Labels["rollout-gate.dev/bench"] != "peers" {
					t.Errorf("namespace %+v (err %v), want it labelled rollout-gate.dev/bench=peers", ns, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestRandomID(t *testing.T) {
	a, b := RandomID(4), RandomID(4)
	if len(a) != 8 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("RandomID(4) = %q, want 8 hex digits", a)
	}
	if a == b {
		t.Errorf("two RandomID(4) are both %q", a)
	}
}

func TestClientNeedsAKubeconfig(t *testing.T) {
	if _, err := Client("", 0, 0); err == nil || !strings.Contains(err.Error(), "no kubeconfig") {
		t.Errorf("Client(\"\") error %v, want one saying there is no kubeconfig", err)
	}
}
