package watch

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
)

// TestWatchHandsOnWhatItSaw: a rollout that times out leaves the watch with its new and previous
// revisions, what changed between them and its pods, for the diagnosis and the rollback. A
// Deployment's history is in the watch's caches: nothing is read again. A StatefulSet's is not:
// it is read once, after the watch.
func TestWatchHandsOnWhatItSaw(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	rs.Annotations["deployment.kubernetes.io/revision"] = "2"
	oldRS := rs.DeepCopy()
	oldRS.Name, oldRS.UID = "api-old", "rs-old"
	oldRS.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
	oldRS.Spec.Template.Labels = map[string]string{"app": "api", "pod-template-hash": "old"}
	oldRS.Spec.Template.Spec.Containers[0].Image = "api:v1"

	sts, crs, stsPod := statefulSetRollout(t)
	tests := []struct {
		name              string
		objects           []runtime.Object
		target            target.Target
		wantCur, wantPrev string
		historyLists      int
	}{
		{"Deployment: from the caches", []runtime.Object{d, rs, oldRS, newPod}, apiDeployment, "api-new", "api-old", 0},
		{"StatefulSet: its history read once", append([]runtime.Object{sts, stsPod}, crs...),
			target.Target{Kind: target.StatefulSet, Namespace: "prod", Name: "web"}, "web-2", "web-1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(tt.objects...)
			w := &Watcher{Client: kubetest.Wrap(cs), Policy: DefaultPolicy(), Timeout: 2 * time.Second}
			res, err := w.Watch(context.Background(), []target.Target{tt.target})
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if r.Verdict != report.VerdictTimeout || r.Observation == nil {
				t.Fatalf("result %s %q with observation %v, want a timeout with one", r.Verdict, r.Message, r.Observation)
			}
			o := r.Observation
			if o.Current == nil || o.Current.Name != tt.wantCur || o.Previous == nil || o.Previous.Name != tt.wantPrev {
				t.Fatalf("revisions %+v and %+v, want %s and %s", o.Current, o.Previous, tt.wantCur, tt.wantPrev)
			}
			if len(o.Changes) != 1 || o.Changes[0].Path != "containers[api].image" || o.Changes[0].Before != "api:v1" || o.Changes[0].After != "api:v2" {
				t.Errorf("changes %+v, want the image from api:v1 to api:v2", o.Changes)
			}
			if len(o.Pods) != 1 || len(r.Pods) != 1 || &o.Pods[0] != &r.Pods[0] {
				t.Errorf("pods %v (result's %v), want the one new pod, shared with the result", o.Pods, r.Pods)
			}
			if got := historyLists(cs); got != tt.historyLists {
				t.Errorf("%d lists of the history by the workload's selector, want %d", got, tt.historyLists)
			}
		})
	}
}

// historyLists counts the lists of ReplicaSets or ControllerRevisions by a label selector: reads
// of one workload's history (the watch's informers list them by namespace).
func historyLists(cs *fake.Clientset) int {
	n := 0
	for _, a := range cs.Actions() {
		l, ok := a.(k8stesting.ListAction)
		if !ok || (a.GetResource().Resource != "replicasets" && a.GetResource().Resource != "controllerrevisions") {
			continue
		}
		if !l.GetListRestrictions().Labels.Empty() {
			n++
		}
	}
	return n
}

// statefulSetRollout is StatefulSet web rolling out revision web-2 (api:v2) over web-1 (api:v1),
// with one new pod, not ready.
func statefulSetRollout(t *testing.T) (*appsv1.StatefulSet, []runtime.Object, *corev1.Pod) {
	t.Helper()
	template := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: image}}}}
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod", UID: "sts-uid", Generation: 2},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), Template: template("api:v2"),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 1, CurrentRevision: "web-1", UpdateRevision: "web-2"},
	}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: sts.UID, Controller: ptr(true)}}
	var crs []runtime.Object
	for i, image := range []string{"api:v1", "api:v2"} {
		raw, err := json.Marshal(map[string]any{"spec": map[string]any{"template": template(image)}})
		if err != nil {
			t.Fatal(err)
		}
		crs = append(crs, &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + string(rune('1'+i)), Namespace: "prod", Labels: map[string]string{"app": "web"}, OwnerReferences: owner},
			Revision:   int64(i + 1), Data: runtime.RawExtension{Raw: raw}})
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "prod", UID: "web-0-uid", OwnerReferences: owner,
		Labels: map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: "web-2"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "api", State: running}}}}
	return sts, crs, pod
}
