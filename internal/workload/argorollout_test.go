package workload

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// argoRolloutOf is a Rollout from YAML, decoded as the dynamic client decodes it, with the
// status as the Argo Rollouts controller writes it (observedGeneration a string).
func argoRolloutOf(t *testing.T, status string) PodWorkload {
	t.Helper()
	doc := `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api, namespace: prod, uid: ro-uid, generation: 3}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: app, image: app:v2}]}
  strategy:
    canary:
      steps: [{setWeight: 50}, {pause: {}}, {setWeight: 100}, {pause: {duration: 30s}}]
` + status
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	w, err := For(u)
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	return w
}

// The status reads: the phase as Argo's GetRolloutPhase gives it, complete only when Healthy for
// the current generation, paused as a wait (not a stall), Degraded as the controller's failure.
func TestArgoRolloutStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    string
		done      bool
		msg       string // in RolloutStatus's message
		pause     string // in Pause(); "" for none
		pauseStep int
		stall     string // the stall's reason; "" for none
		progress  string // in Progress()
	}{
		{name: "healthy for this generation", done: true, msg: `"api" is healthy`, progress: "2/2 updated, 2/2 ready, 2 available; Healthy",
			status: `status: {observedGeneration: "3", phase: Healthy, currentPodHash: abc, stableRS: abc, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}`},
		{name: "healthy but for an older generation", msg: "spec update to be observed", progress: "Progressing: waiting for rollout spec update",
			status: `status: {observedGeneration: "2", phase: Healthy, currentPodHash: abc, stableRS: abc, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}`},
		{name: "no status yet", msg: "waiting for the Argo Rollouts controller", progress: "0/2 updated"},
		{name: "progressing", msg: "more replicas need to be updated", progress: "1/2 updated, 1/2 ready, 1 available (1 old); Progressing: more replicas",
			status: `status: {observedGeneration: "3", phase: Progressing, message: more replicas need to be updated, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}`},
		{name: "paused at an indefinite canary step", msg: "waiting on a pause: canary step 2 of 4", pauseStep: 2,
			pause:    "canary step 2 of 4 (pause with no duration: until promoted; CanaryPauseStep)",
			progress: "; waiting on a pause: canary step 2 of 4",
			status: `status: {observedGeneration: "3", phase: Paused, message: CanaryPauseStep, currentStepIndex: 1, controllerPause: true,
  pauseConditions: [{reason: CanaryPauseStep, startTime: "2026-12-07T22:00:00Z"}], replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3}`},
		{name: "paused at a timed canary step", msg: "waiting on a pause", pauseStep: 4, pause: "canary step 4 of 4 (pause 30s; CanaryPauseStep)",
			status: `status: {observedGeneration: "3", phase: Paused, currentStepIndex: 3, controllerPause: true,
  pauseConditions: [{reason: CanaryPauseStep, startTime: "2026-12-07T22:00:00Z"}]}`},
		{name: "being unpaused", msg: "waiting for rollout to unpause",
			status: `status: {observedGeneration: "3", phase: Paused, currentStepIndex: 1, controllerPause: true}`},
		{name: "aborted", msg: "degraded", stall: "RolloutAborted", progress: "Degraded: RolloutAborted",
			status: `status: {observedGeneration: "3", phase: Degraded, message: "RolloutAborted: Rollout aborted update to revision 2", abort: true,
  conditions: [{type: Progressing, status: "False", reason: RolloutAborted, message: Rollout aborted update to revision 2}]}`},
		{name: "past its progress deadline", msg: "degraded", stall: "ProgressDeadlineExceeded",
			status: `status: {observedGeneration: "3", phase: Degraded, message: "ProgressDeadlineExceeded: ReplicaSet api-abc has timed out progressing.",
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}`},
		{name: "degraded for an older generation is no stall yet", msg: "spec update to be observed",
			status: `status: {observedGeneration: "2", phase: Degraded, message: "RolloutAborted: x", conditions: [{type: Progressing, status: "False", reason: RolloutAborted}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := argoRolloutOf(t, tt.status)
			ro, ok := w.(Rollout)
			if !ok {
				t.Fatalf("%T is no Rollout", w)
			}
			msg, done, err := ro.RolloutStatus()
			if err != nil {
				t.Fatalf("RolloutStatus: %v", err)
			}
			if done != tt.done || !strings.Contains(msg, tt.msg) {
				t.Errorf("RolloutStatus = %q, %v; want %v with %q", msg, done, tt.done, tt.msg)
			}
			pz := w.(Pauser)
			if got := pz.Pause(); (tt.pause == "") != (got == "") || !strings.Contains(got, tt.pause) {
				t.Errorf("Pause() = %q, want %q", got, tt.pause)
			}
			if got := w.(argoRollout).PauseStep(); got != tt.pauseStep {
				t.Errorf("PauseStep() = %d, want %d", got, tt.pauseStep)
			}
			stalls := ro.Stalls()
			switch {
			case tt.stall == "" && len(stalls) > 0:
				t.Errorf("Stalls() = %+v, want none", stalls)
			case tt.stall != "" && (len(stalls) != 1 || !stalls[0].Failed || stalls[0].Reason != tt.stall):
				t.Errorf("Stalls() = %+v, want one failed with reason %s", stalls, tt.stall)
			}
			if got := w.Progress(); !strings.Contains(got, tt.progress) {
				t.Errorf("Progress() = %q, want it to hold %q", got, tt.progress)
			}
		})
	}
}

// The new revision is the ReplicaSet of status.currentPodHash that the Rollout controls; its pods
// are those with that hash; the previous revision is the highest-numbered below it.
func TestArgoRolloutRevisions(t *testing.T) {
	t.Parallel()
	w := argoRolloutOf(t, `status: {observedGeneration: "3", phase: Progressing, currentPodHash: bbb, stableRS: aaa}`)
	isController := true
	owner := []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "api", UID: "ro-uid", Controller: &isController}}
	rs := func(name, hash, rev string, owners []metav1.OwnerReference) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name + "-uid"), OwnerReferences: owners,
				Labels: map[string]string{"app": "api", ArgoPodHashLabel: hash}, Annotations: map[string]string{argoRevisionAnnotation: rev}},
			Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api", ArgoPodHashLabel: hash}}}},
		}
	}
	h := History{ReplicaSets: []*appsv1.ReplicaSet{
		rs("api-aaa", "aaa", "2", owner), rs("api-bbb", "bbb", "3", owner), rs("api-old", "ooo", "1", owner),
		rs("other-bbb", "bbb", "9", nil), // same hash, another owner
	}}
	cur, prev := w.Revisions(h)
	if cur == nil || cur.Name != "api-bbb" || cur.Number != 3 {
		t.Fatalf("current = %+v, want api-bbb revision 3", cur)
	}
	if prev == nil || prev.Name != "api-aaa" || prev.Number != 2 {
		t.Fatalf("previous = %+v, want api-aaa revision 2", prev)
	}
	tmpl, err := cur.Template()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tmpl.Labels[ArgoPodHashLabel]; ok {
		t.Errorf("the revision's template keeps %s, which would show as a change: %v", ArgoPodHashLabel, tmpl.Labels)
	}
	pod := func(name, hash, rsUID string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "api", ArgoPodHashLabel: hash},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", UID: types.UID(rsUID), Controller: &isController}}}}
	}
	pods := cur.Pods([]*corev1.Pod{pod("new", "bbb", "api-bbb-uid"), pod("stable", "aaa", "api-aaa-uid"), pod("stranger", "bbb", "other-bbb-uid")})
	if len(pods) != 1 || pods[0].Name != "new" {
		t.Errorf("pods of the new revision = %v, want [new]", pods)
	}

	// Until the controller has observed the current spec, its currentPodHash is the old one's.
	stale := argoRolloutOf(t, `status: {observedGeneration: "2", phase: Healthy, currentPodHash: aaa, stableRS: aaa}`)
	if cur, _ := stale.Revisions(h); cur != nil {
		t.Errorf("current = %+v for a status of an older generation, want none yet", cur)
	}
}

// A Rollout is no RolloutKind (kubectl rollout does not know it), a PodKind with ReplicaSets for
// history, and rolled back by hand with Argo's own commands.
func TestArgoRolloutKind(t *testing.T) {
	t.Parallel()
	w := argoRolloutOf(t, "")
	k := w.Kind()
	if _, ok := k.(RolloutKind); ok {
		t.Error("a Rollout's kind is a RolloutKind: kubectl's undo would be tried on it")
	}
	mk, ok := k.(ManualRollbackKind)
	if !ok {
		t.Fatal("a Rollout's kind does not say how to roll it back")
	}
	want := []string{"kubectl argo rollouts abort api -n prod", "kubectl argo rollouts undo api -n prod"}
	if got := mk.UndoCommands("prod", "api"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("UndoCommands = %q, want %q", got, want)
	}
	if got := w.(Pauser).Unpause(); got != "kubectl argo rollouts promote api -n prod" {
		t.Errorf("Unpause = %q", got)
	}
	if hk, gr := mk.History(); hk != "ReplicaSet" || gr.String() != "replicasets.apps" {
		t.Errorf("History() = %s %s", hk, gr)
	}
	if got := Key(k); got != "Rollout.argoproj.io" {
		t.Errorf("Key = %q", got)
	}
	if _, err := k.Get(t.Context(), nil, "prod", "api"); err == nil {
		t.Error("an unbound kind read the API")
	}
}
