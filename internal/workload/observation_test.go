package workload

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// TestObserveWorksTheRevisionsOutOnce: the observation holds the revisions the kind's own rule
// picks, the new revision's template, and the diff from the previous one; a first deploy has no
// previous revision and no diff, and a rollout the controller has not begun falls back to the
// workload's own template.
func TestObserveWorksTheRevisionsOutOnce(t *testing.T) {
	t.Parallel()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", UID: "dep"},
		Spec: appsv1.DeploymentSpec{Template: podTemplate("v10")}}
	wl, err := For(d)
	if err != nil {
		t.Fatal(err)
	}
	pods := []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "api-b-1"}}}
	tests := []struct {
		name              string
		rss               []*appsv1.ReplicaSet
		wantCur, wantPrev string
		wantImage         string
		wantChanges       []report.Change
	}{
		{"new and previous revision", []*appsv1.ReplicaSet{replicaSet("b", "10", "v10", "dep", t0), replicaSet("c", "9", "v9", "dep", t0)},
			"api-b", "api-c", "v10", []report.Change{{Path: "containers[api].image", Before: "v9", After: "v10"}}},
		{"first deploy", []*appsv1.ReplicaSet{replicaSet("b", "10", "v10", "dep", t0)}, "api-b", "", "v10", nil},
		{"the controller has not made the new ReplicaSet", []*appsv1.ReplicaSet{replicaSet("c", "9", "v9", "dep", t0)}, "", "", "v10", nil},
	}
	for _, tt := range tests {
		o := Observe(wl, History{ReplicaSets: tt.rss}, pods)
		if name(o.Current) != tt.wantCur || name(o.Previous) != tt.wantPrev {
			t.Errorf("%s: revisions %s and %s, want %s and %s", tt.name, name(o.Current), name(o.Previous), tt.wantCur, tt.wantPrev)
		}
		if got := o.Template.Spec.Containers[0].Image; got != tt.wantImage {
			t.Errorf("%s: template image %s, want %s", tt.name, got, tt.wantImage)
		}
		if len(o.Changes) != len(tt.wantChanges) {
			t.Fatalf("%s: changes %+v, want %+v", tt.name, o.Changes, tt.wantChanges)
		}
		for i, c := range o.Changes {
			if c.Path != tt.wantChanges[i].Path || c.Before != tt.wantChanges[i].Before || c.After != tt.wantChanges[i].After {
				t.Errorf("%s: change %+v, want %+v", tt.name, c, tt.wantChanges[i])
			}
		}
		if len(o.Pods) != 1 || o.Workload != wl {
			t.Errorf("%s: pods %v and workload %v, want those observed", tt.name, o.Pods, o.Workload)
		}
	}
}

// TestKindsAnswerWhatTheyCan: each kind of the switch is a PodKind, the rollout kinds are
// RolloutKinds and their workloads Rollouts, the Job is neither and its workloads Completions.
func TestKindsAnswerWhatTheyCan(t *testing.T) {
	t.Parallel()
	for _, k := range Kinds() {
		_, rollout := k.(RolloutKind)
		if want := k.Name() != Job; rollout != want {
			t.Errorf("%s is a RolloutKind: %v, want %v", k.Name(), rollout, want)
		}
	}
	if n := len(RolloutKinds()); n != 3 {
		t.Errorf("%d rollout kinds, want Deployment, StatefulSet and DaemonSet", n)
	}
	sts, _ := For(&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "sts"},
		Status: appsv1.StatefulSetStatus{UpdateRevision: "web-2"}})
	failed, blocked := sts.(Rollout).BlockedByBrokenPods()
	if !blocked || failed.Name != "web-2" || !failed.Owns(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: "web-2"}, OwnerReferences: controlledBy(StatefulSet, "web", "sts")}}) {
		t.Errorf("an OrderedReady StatefulSet: blocked %v by revision %+v, want blocked by web-2 and its pods", blocked, failed)
	}
	parallel, _ := For(&appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{PodManagementPolicy: appsv1.ParallelPodManagement},
		Status: appsv1.StatefulSetStatus{UpdateRevision: "web-2"}})
	if _, blocked := parallel.(Rollout).BlockedByBrokenPods(); blocked {
		t.Error("a Parallel StatefulSet with RollingUpdate replaces broken pods itself: not blocked")
	}
	d, _ := For(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Status: appsv1.DeploymentStatus{ObservedGeneration: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}})
	if st := d.(Rollout).Stalls(); len(st) != 0 {
		t.Errorf("stalls %+v of a generation the controller has not observed, want none", st)
	}
}
