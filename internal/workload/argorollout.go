package workload

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// Argo Rollouts (rollouts.argoproj.io): a Rollout runs pods from its own pod template through
// ReplicaSets it controls, as a Deployment does, with canary or blue-green steps between the
// stable and the new ReplicaSet. The gate judges it by its pods like a Deployment (the new
// revision is the ReplicaSet labelled rollouts-pod-template-hash=status.currentPodHash) and by
// the status its controller writes: status.phase Healthy, Progressing, Paused or Degraded, as
// the Argo Rollouts client computes it (GetRolloutPhase in argo-rollouts' utils/rollout). Its
// status.observedGeneration is a string, which is why the generic (kstatus) reader cannot judge
// it. The Rollout is read as unstructured, into a local struct of the fields the gate reads:
// argo-rollouts is not a dependency of the gate.
//
// It is a PodKind but no RolloutKind: `kubectl rollout` does not know it, and the gate does not
// roll it back (the report says how: `kubectl argo rollouts abort`, then `undo`).

// ArgoRollout is Argo Rollouts' kind, as the API spells it.
const ArgoRollout = "Rollout"

// ArgoRolloutGroupKind is the kind with its API group.
var ArgoRolloutGroupKind = schema.GroupKind{Group: "argoproj.io", Kind: ArgoRollout}

// Argo's labels and annotations.
const (
	// ArgoPodHashLabel marks a Rollout's ReplicaSets and pods with the hash of their template
	// (v1alpha1.DefaultRolloutUniqueLabelKey).
	ArgoPodHashLabel = "rollouts-pod-template-hash"
	// argoRevisionAnnotation numbers a Rollout's ReplicaSets (`kubectl argo rollouts undo` reads it).
	argoRevisionAnnotation = "rollout.argoproj.io/revision"
)

// Argo's phases (v1alpha1.RolloutPhase) and the pause reason of a canary's pause step.
const (
	ArgoPhaseHealthy     = "Healthy"
	ArgoPhaseProgressing = "Progressing"
	ArgoPhasePaused      = "Paused"
	ArgoPhaseDegraded    = "Degraded"
	argoCanaryPauseStep  = "CanaryPauseStep"
)

// argoKind is the Rollout kind. Bound to the API (res set) it reads Rollouts through the dynamic
// client, as the Resolver makes it; argoRollouts, unbound, only wraps objects already read (For).
type argoKind struct {
	res *genericKind
}

// argoRollouts wraps Rollout objects for the judge and the diagnosis, which are handed objects.
var argoRollouts = &argoKind{}

func (k *argoKind) Name() string { return ArgoRollout }
func (k *argoKind) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: ArgoRolloutGroupKind.Group, Resource: "rollouts"}
}
func (k *argoKind) Namespaced() bool { return true }
func (k *argoKind) History() (string, schema.GroupResource) {
	return replicaSets.kind, replicaSets.resource
}

// APIVersion is the group/version the gate reads Rollouts at.
func (k *argoKind) APIVersion() string {
	if k.res != nil {
		return k.res.APIVersion()
	}
	return "argoproj.io/v1alpha1"
}

func (k *argoKind) of(obj runtime.Object) (PodWorkload, bool) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.GroupVersionKind().GroupKind() != ArgoRolloutGroupKind {
		return nil, false
	}
	return newArgoRollout(k, u), true
}

func (k *argoKind) bound() error {
	if k.res == nil {
		return fmt.Errorf("%s: no API client (a Rollout wrapped from an object cannot be read again)", k.GroupResource())
	}
	return nil
}

// Get reads one Rollout through the dynamic client (c is not used: see genericKind).
func (k *argoKind) Get(ctx context.Context, _ client.Interface, ns, name string) (Workload, error) {
	if err := k.bound(); err != nil {
		return nil, err
	}
	u, err := k.res.client(k.res.dyn, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return newArgoRollout(k, u), nil
}

func (k *argoKind) List(ctx context.Context, _ client.Interface, ns string, opts metav1.ListOptions) ([]Workload, error) {
	if err := k.bound(); err != nil {
		return nil, err
	}
	list, err := k.res.client(k.res.dyn, ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Workload, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, newArgoRollout(k, &list.Items[i]))
	}
	return out, nil
}

// Cache is the Rollouts' dynamic informer (genericKind's) and the namespace's ReplicaSets (shared
// with Deployments): a Rollout's ReplicaSets say which pods are new, and a pod's change is its
// ReplicaSet's Rollout's change.
func (k *argoKind) Cache(c client.Interface, f *client.Informers, ns string) (Cached, error) {
	if err := k.bound(); err != nil {
		return Cached{}, err
	}
	out, err := k.res.Cache(c, f, ns)
	if err != nil {
		return Cached{}, err
	}
	get := out.Get
	out.Get = func(name string) (Workload, error) {
		w, err := get(name)
		if err != nil {
			return nil, err
		}
		return newArgoRollout(k, w.Object().(*unstructured.Unstructured)), nil
	}
	hs := replicaSets
	inf := f.For(hs.resource, hs.api.newObj(), hs.api.listWatch(c, ns))
	probe := metav1.ListOptions{Limit: 1}
	out.Informers = append([]Informer{{Resource: hs.resource, Informer: inf, Probe: func(ctx context.Context) error {
		_, err := hs.api.list(ctx, c, ns, probe)
		return err
	}}}, out.Informers...)
	lister := cache.NewGenericLister(inf.GetIndexer(), hs.resource).ByNamespace(ns)
	out.History = func(w PodWorkload) History {
		objs, _ := lister.List(w.Selector())
		return historyOf(objs)
	}
	out.ControllerOf = func(ref *metav1.OwnerReference) string {
		if ref.Kind != hs.kind {
			return ""
		}
		obj, err := lister.Get(ref.Name)
		if err != nil {
			return ""
		}
		m, err := meta.Accessor(obj)
		if err != nil || m.GetUID() != ref.UID {
			return ""
		}
		if owner := metav1.GetControllerOfNoCopy(m); owner != nil && owner.Kind == ArgoRollout && strings.HasPrefix(owner.APIVersion, ArgoRolloutGroupKind.Group+"/") {
			return owner.Name
		}
		return ""
	}
	return out, nil
}

// rolloutFields are the fields of a Rollout the gate reads (argo-rollouts'
// pkg/apis/rollouts/v1alpha1 types, abridged).
type rolloutFields struct {
	Spec struct {
		Replicas    *int32                 `json:"replicas"`
		Selector    *metav1.LabelSelector  `json:"selector"`
		Template    corev1.PodTemplateSpec `json:"template"`
		Paused      bool                   `json:"paused"`
		WorkloadRef *struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"workloadRef"`
		Strategy struct {
			Canary *struct {
				Steps []map[string]any `json:"steps"`
			} `json:"canary"`
			BlueGreen map[string]any `json:"blueGreen"`
		} `json:"strategy"`
	} `json:"spec"`
	Status struct {
		Abort           bool `json:"abort"`
		PauseConditions []struct {
			Reason    string      `json:"reason"`
			StartTime metav1.Time `json:"startTime"`
		} `json:"pauseConditions"`
		ControllerPause    bool   `json:"controllerPause"`
		CurrentPodHash     string `json:"currentPodHash"`
		Replicas           int32  `json:"replicas"`
		UpdatedReplicas    int32  `json:"updatedReplicas"`
		ReadyReplicas      int32  `json:"readyReplicas"`
		AvailableReplicas  int32  `json:"availableReplicas"`
		CurrentStepIndex   *int32 `json:"currentStepIndex"`
		ObservedGeneration string `json:"observedGeneration"`
		Conditions         []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
		StableRS string `json:"stableRS"`
		Phase    string `json:"phase"`
		Message  string `json:"message"`
	} `json:"status"`
}

// argoRollout is one Rollout.
type argoRollout struct {
	kind *argoKind
	u    *unstructured.Unstructured
	r    rolloutFields
	// readErr says why the fields could not be read (a status of an unexpected shape).
	readErr error
}

var _ Rollout = argoRollout{}

func newArgoRollout(k *argoKind, u *unstructured.Unstructured) argoRollout {
	w := argoRollout{kind: k, u: u}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &w.r); err != nil {
		w.readErr = fmt.Errorf("read %s %s/%s: %w", ArgoRollout, u.GetNamespace(), u.GetName(), err)
	}
	return w
}

func (w argoRollout) Kind() Kind                { return w.kind }
func (w argoRollout) Object() runtime.Object    { return w.u }
func (w argoRollout) Meta() metav1.Object       { return w.u }
func (w argoRollout) Selector() labels.Selector { return selectorOf(w.r.Spec.Selector) }
func (w argoRollout) Paused() bool              { return w.r.Spec.Paused }

// Template is spec.template; a Rollout that takes its template from a workloadRef (a
// Deployment's) has none of its own: an empty template, the revisions' ReplicaSets hold it.
func (w argoRollout) Template() *corev1.PodTemplateSpec { return &w.r.Spec.Template }

func (w argoRollout) ListHistory(ctx context.Context, c client.Interface, limit int64) (History, error) {
	list, err := replicaSets.api.list(ctx, c, w.u.GetNamespace(), metav1.ListOptions{LabelSelector: w.Selector().String(), Limit: limit})
	if err != nil {
		return History{}, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return History{}, fmt.Errorf("list %s: %w", replicaSets.resource, err)
	}
	return historyOf(items), nil
}

// observed says whether the status is about the current spec: status.observedGeneration, a
// string, equals metadata.generation (Argo's isGenerationObserved: a value that is no number, as
// v0.9 wrote, or a larger one, counts as observed).
func (w argoRollout) observed() bool {
	og, err := strconv.ParseInt(w.r.Status.ObservedGeneration, 10, 64)
	if err != nil {
		return w.r.Status.ObservedGeneration != ""
	}
	return og >= w.u.GetGeneration()
}

// Phase is the Rollout's phase and message as the Argo Rollouts client reads them (GetRolloutPhase):
// Progressing while the controller has not observed the current spec or is unpausing it, else
// the phase the controller wrote.
func (w argoRollout) Phase() (phase, message string) {
	switch {
	case w.r.Status.Phase == "" && w.r.Status.ObservedGeneration == "":
		return ArgoPhaseProgressing, "waiting for the Argo Rollouts controller to report on the rollout (is it running?)"
	case !w.observed():
		return ArgoPhaseProgressing, "waiting for rollout spec update to be observed"
	case w.r.Status.ControllerPause && len(w.r.Status.PauseConditions) == 0:
		return ArgoPhaseProgressing, "waiting for rollout to unpause"
	case w.r.Status.Phase == "":
		return ArgoPhaseProgressing, "waiting for the Argo Rollouts controller to report on the rollout"
	}
	return w.r.Status.Phase, w.r.Status.Message
}

// Pause says what the Rollout waits on when it is paused: "" when it is not. A paused Rollout
// waits for a person (or a pause step's duration): it is neither failed nor healthy.
func (w argoRollout) Pause() string {
	if phase, _ := w.Phase(); phase != ArgoPhasePaused {
		return ""
	}
	if w.r.Spec.Paused {
		return "manually paused (spec.paused)"
	}
	var reasons []string
	canaryStep := false
	for _, pc := range w.r.Status.PauseConditions {
		reasons = append(reasons, pc.Reason)
		canaryStep = canaryStep || pc.Reason == argoCanaryPauseStep
	}
	why := strings.Join(reasons, ", ")
	if why == "" {
		why = w.r.Status.Message
	}
	if c := w.r.Spec.Strategy.Canary; canaryStep && c != nil && w.r.Status.CurrentStepIndex != nil {
		step := int(*w.r.Status.CurrentStepIndex)
		what := "pause"
		if step >= 0 && step < len(c.Steps) {
			pause, _ := c.Steps[step]["pause"].(map[string]any)
			if d, ok := pause["duration"]; ok {
				what = fmt.Sprintf("pause %v", d)
			} else {
				what = "pause with no duration: until promoted"
			}
		}
		return fmt.Sprintf("canary step %d of %d (%s; %s)", step+1, len(c.Steps), what, why)
	}
	return why
}

// Unpause is `kubectl argo rollouts promote NAME -n NS`: past a pause step (or out of a manual
// pause, as the plugin's promote also does).
func (w argoRollout) Unpause() string {
	return strings.Join(w.kind.Command("promote", w.u.GetNamespace(), w.u.GetName()), " ")
}

// PauseStep is the 1-based canary step the Rollout is paused at, 0 when it is not paused at one.
func (w argoRollout) PauseStep() int {
	if w.Pause() == "" || w.r.Spec.Strategy.Canary == nil || w.r.Status.CurrentStepIndex == nil {
		return 0
	}
	for _, pc := range w.r.Status.PauseConditions {
		if pc.Reason == argoCanaryPauseStep {
			return int(*w.r.Status.CurrentStepIndex) + 1
		}
	}
	return 0
}

// RolloutStatus: complete when the phase is Healthy (every replica updated and available, the
// new ReplicaSet stable: all canary steps done, or the blue-green cutover made). A phase that
// cannot be read is an error: the judge cannot track it.
func (w argoRollout) RolloutStatus() (string, bool, error) {
	if w.readErr != nil {
		return "", false, w.readErr
	}
	phase, msg := w.Phase()
	name := w.u.GetName()
	switch phase {
	case ArgoPhaseHealthy:
		return fmt.Sprintf("rollout %q is healthy", name), true, nil
	case ArgoPhasePaused:
		return "waiting on a pause: " + w.Pause(), false, nil
	case ArgoPhaseDegraded:
		return fmt.Sprintf("rollout %q is degraded: %s", name, msg), false, nil
	}
	if msg == "" {
		msg = "progressing"
	}
	return fmt.Sprintf("waiting for rollout %q: %s", name, msg), false, nil
}

// Stalls: the controller's Degraded phase (Argo's CalculateRolloutPhase: an InvalidSpec
// condition, a rollout aborted by hand or by a failed analysis, or past its
// progressDeadlineSeconds) is final, once the controller has observed the current spec.
func (w argoRollout) Stalls() []Stall {
	phase, msg := w.Phase()
	if phase != ArgoPhaseDegraded {
		return nil
	}
	reason := ArgoPhaseDegraded
	for _, c := range w.r.Status.Conditions {
		if c.Type == "InvalidSpec" {
			reason = c.Type
			break
		}
		if c.Reason == "RolloutAborted" || c.Reason == "ProgressDeadlineExceeded" {
			reason = c.Reason
			break
		}
	}
	if msg == "" {
		msg = "the Argo Rollouts controller reports the rollout Degraded"
	}
	return []Stall{{Failed: true, DeadlineExceeded: reason == "ProgressDeadlineExceeded", Reason: reason, Message: msg}}
}

// Conditions are the Rollout's status conditions (Progressing, Available, Healthy, Paused,
// Completed, InvalidSpec).
func (w argoRollout) Conditions() []Condition {
	var out []Condition
	for _, c := range w.r.Status.Conditions {
		out = append(out, Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
	}
	return out
}

func (argoRollout) BlockedByBrokenPods() (*Revision, bool) { return nil, false }

// Revisions: the new revision is the ReplicaSet the Rollout controls whose
// rollouts-pod-template-hash is status.currentPodHash, once the controller has observed the
// current spec; the previous one is the highest-numbered (rollout.argoproj.io/revision) below it,
// the one `kubectl argo rollouts undo` goes back to.
func (w argoRollout) Revisions(h History) (cur, prev *Revision) {
	hash := w.r.Status.CurrentPodHash
	if hash == "" || !w.observed() {
		return nil, nil
	}
	var owned []*Revision
	for _, rs := range h.ReplicaSets {
		if !metav1.IsControlledBy(rs, w.u) {
			continue
		}
		r := argoRevision(rs)
		owned = append(owned, r)
		if rs.Labels[ArgoPodHashLabel] == hash {
			cur = r
		}
	}
	if cur == nil {
		return nil, nil
	}
	return cur, previous(cur, owned)
}

func argoRevision(rs *appsv1.ReplicaSet) *Revision {
	n, _ := strconv.ParseInt(rs.Annotations[argoRevisionAnnotation], 10, 64)
	t := rs.Spec.Template.DeepCopy()
	delete(t.Labels, ArgoPodHashLabel) // it names the revision, it is not a change
	return &Revision{
		Name: rs.Name, Number: n, ID: rs.Annotations[argoRevisionAnnotation], Created: rs.CreationTimestamp.Time,
		Owner:    Owner{Kind: replicaSets.kind, Name: rs.Name, UID: rs.UID},
		template: t,
		match:    map[string]string{ArgoPodHashLabel: rs.Labels[ArgoPodHashLabel]},
	}
}

// Progress: "1/2 updated, 1/2 ready, 1 available; Progressing: more replicas need to be
// updated", or "...; waiting on a pause: canary step 2 of 3 (...)".
func (w argoRollout) Progress() string {
	s := w.r.Status
	want := replicas(w.r.Spec.Replicas)
	line := fmt.Sprintf("%d/%d updated, %d/%d ready, %d available", s.UpdatedReplicas, want, s.ReadyReplicas, want, s.AvailableReplicas)
	if old := s.Replicas - s.UpdatedReplicas; old > 0 {
		line += fmt.Sprintf(" (%d old)", old)
	}
	phase, msg := w.Phase()
	switch {
	case phase == ArgoPhasePaused:
		return line + "; waiting on a pause: " + w.Pause()
	case msg != "":
		return line + "; " + phase + ": " + msg
	}
	return line + "; " + phase
}

// ProgressCounts are the status counts whose rise is progress (watch's progress.go).
func (w argoRollout) ProgressCounts() map[string]int64 {
	s := w.r.Status
	return map[string]int64{"updated": int64(s.UpdatedReplicas), "ready": int64(s.ReadyReplicas), "available": int64(s.AvailableReplicas)}
}

// UndoCommands are the commands that roll a Rollout back the Argo way: abort the update (the
// controller scales the new ReplicaSet down and sends traffic back to the stable one), then
// undo it (`kubectl argo rollouts undo` writes the previous revision's pod template back into
// spec.template, so the spec no longer asks for the failed one).
func (k *argoKind) UndoCommands(namespace, name string) []string {
	return []string{
		strings.Join(k.Command("abort", namespace, name), " "),
		strings.Join(k.Command("undo", namespace, name), " "),
	}
}

// Command is the Argo Rollouts kubectl plugin's command for verb (status, abort, undo, promote,
// restart) on one Rollout, as words: `kubectl argo rollouts VERB NAME -n NS`.
func (k *argoKind) Command(verb, namespace, name string) []string {
	return []string{"kubectl", "argo", "rollouts", verb, name, "-n", namespace}
}
