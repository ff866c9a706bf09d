package watch

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

func controlledBy(kind, name string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: ptr(true)}}
}

// cachedReplicaSets stands for the Deployments' ReplicaSet cache of namespace shop: api-7d4b9c
// and the adopted legacy, both controlled by Deployment api.
func cachedReplicaSets(ref *metav1.OwnerReference) string {
	if ref.Kind == "ReplicaSet" && (ref.Name == "api-7d4b9c" || ref.Name == "legacy") {
		return "api"
	}
	return ""
}

func TestChangesName(t *testing.T) {
	t.Parallel()
	pod := func(name string, owners []metav1.OwnerReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", OwnerReferences: owners}}
	}
	tests := []struct {
		name      string
		obj       any
		changed   []string // workloads of namespace shop judged again
		unchanged []string
	}{
		{"a Deployment itself", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"}}, []string{"api"}, []string{"web"}},
		{"a ReplicaSet's Deployment", &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-7d4b9c",
			OwnerReferences: controlledBy("Deployment", "api")}}, []string{"api"}, []string{"web", "api-7d4b9c-x"}},
		{"a pod's Deployment through its cached ReplicaSet", pod("api-7d4b9c-xkp2z", controlledBy("ReplicaSet", "api-7d4b9c")), []string{"api", "api-7d4b9c"}, []string{"web"}},
		// Adopted by a Deployment of another name: the owner reference decides, not the name.
		{"a pod of an adopted ReplicaSet", pod("legacy-x", controlledBy("ReplicaSet", "legacy")), []string{"api"}, []string{"web", "leg"}},
		{"a pod of a ReplicaSet not cached (yet)", pod("web-5f-x", controlledBy("ReplicaSet", "web-5f")), []string{"web-5f"}, []string{"web", "api"}},
		{"a pod's StatefulSet", pod("db-0", controlledBy("StatefulSet", "db")), []string{"db"}, []string{"api"}},
		{"a bare pod judged by its status", pod("debug", nil), []string{"debug"}, []string{"api"}},
		{"a pod without an owning controller", pod("api-1", []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-7d"}}), []string{"api-1"}, []string{"api"}},
		{"an event: the whole namespace", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "api.1"}}, []string{"api", "web"}, nil},
		{"a missed deletion: the whole namespace", cache.DeletedFinalStateUnknown{Key: "shop/api-1"}, []string{"api", "web"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newChanges()
			c.add("shop", tt.obj, cachedReplicaSets)
			set := c.take()
			for _, n := range tt.changed {
				if !set.has("shop", n) {
					t.Errorf("%s not judged again", n)
				}
			}
			for _, n := range tt.unchanged {
				if set.has("shop", n) {
					t.Errorf("%s judged again, though nothing of it changed", n)
				}
			}
			if set.has("other", tt.changed[0]) {
				t.Errorf("a change in shop marks namespace other")
			}
			if c.take().has("shop", tt.changed[0]) {
				t.Errorf("take does not start a new set")
			}
		})
	}
}

func TestChangesNamespaceWideWins(t *testing.T) {
	t.Parallel()
	c := newChanges()
	c.add("shop", &corev1.Event{}, nil)
	c.add("shop", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"}}, nil)
	if set := c.take(); !set.has("shop", "web") {
		t.Errorf("a named change after a namespace-wide one narrowed the set")
	}
}

func TestLeanPodKeepsWhatTheJudgeReads(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	probe := &corev1.Probe{PeriodSeconds: 5}
	full := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop", UID: "u1", Labels: map[string]string{"app": "api"},
			Annotations: map[string]string{"big": "x"}, OwnerReferences: controlledBy("ReplicaSet", "api-7d"),
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways,
			InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: &always, Env: []corev1.EnvVar{{Name: "A"}}}},
			Containers: []corev1.Container{{Name: "app", Image: "shop:v2", LivenessProbe: probe, ReadinessProbe: probe,
				Command: []string{"/app"}, EnvFrom: []corev1.EnvFromSource{{}}}},
			Volumes: []corev1.Volume{{Name: "config"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 2}}},
	}
	p := leanPod(full)
	switch {
	case p.Name != "api-1" || p.UID != "u1" || p.Labels["app"] != "api" || metav1.GetControllerOfNoCopy(p) == nil:
		t.Errorf("identity, labels or owner lost: %+v", p.ObjectMeta)
	case p.Spec.NodeName != "n1" || p.Spec.RestartPolicy != corev1.RestartPolicyAlways:
		t.Errorf("node or restart policy lost: %+v", p.Spec)
	case podstate.Spec(p, "app") == nil || podstate.Spec(p, "app").LivenessProbe != probe || len(podstate.LongRunning(p)) != 1:
		t.Errorf("containers' probes lost: %+v", p.Spec.Containers)
	case p.Status.ContainerStatuses[0].RestartCount != 2:
		t.Errorf("status lost: %+v", p.Status)
	case p.Annotations != nil || p.ManagedFields != nil || p.Spec.Volumes != nil || p.Spec.Containers[0].Command != nil ||
		p.Spec.Containers[0].EnvFrom != nil || p.Spec.InitContainers[0].Env != nil:
		t.Errorf("kept what the judge does not read: %+v", p)
	}
}
