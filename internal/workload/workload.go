// Package workload is what the gate knows of each kind of workload it judges, in one place: how to
// read it (through the API or from a watch cache), its selector and pod template, which revision is
// new and which came before, the pods of a revision, kubectl's status viewer, history viewer and
// rollbacker for it, the resource it is, and the counts of its progress line.
//
// It follows kubectl's polymorphichelpers: one small interface, one implementation per kind, chosen
// by one switch (Lookup). Jobs joined by that door (job.go); every other kind (custom resources,
// PVCs, bare Pods) is found by the REST mapper (Resolver) and judged by its status through the
// kstatus conventions (generic.go). What a kind can do is the interface it implements, decided
// once when the targets are resolved: a Rollout (Deployment, StatefulSet, DaemonSet), a
// Completion (Job), or neither (judged by its status). The rules that differ between kinds live
// on them: a Deployment's stalls, a StatefulSet that holds its rollback on broken pods.
//
// The watch hands on what it saw of a failed rollout as an Observation (observation.go): the
// diagnosis and the rollback read it instead of the cluster.
package workload

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kubectlcopy"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Kinds the gate can judge, as the API spells them.
const (
	Deployment  = "Deployment"
	StatefulSet = "StatefulSet"
	DaemonSet   = "DaemonSet"
	Job         = "Job"
)

// Kind is what the gate knows of one kind of workload, before any object of it is read. What
// else a kind can do is told by the interface it also implements, asked once where it matters (a
// type switch), never by a flag: a PodKind runs pods from a template (the rollout kinds and the
// Job), a RolloutKind is one `kubectl rollout` knows; any other Kind (genericKind) is judged by its
// status alone (StatusOf).
type Kind interface {
	// Name is the kind as the API spells it: "Deployment".
	Name() string
	// GroupResource is the resource RBAC rules and API errors name: deployments.apps.
	GroupResource() schema.GroupResource
	// Namespaced says whether its objects live in a namespace.
	Namespaced() bool
	// Get reads one workload with a consistent read.
	Get(ctx context.Context, c client.Interface, namespace, name string) (Workload, error)
	// List lists the workloads of this kind in a namespace.
	List(ctx context.Context, c client.Interface, namespace string, opts metav1.ListOptions) ([]Workload, error)
	// Cache registers the informers the watch needs for this kind with f and reads through them.
	Cache(c client.Interface, f *client.Informers, namespace string) (Cached, error)
}

// PodKind is a kind whose workloads run pods from a pod template and are judged by them: the
// rollout kinds and the Job. Its workloads are PodWorkloads.
type PodKind interface {
	Kind
	// History names where the kind's revisions live: ReplicaSets or ControllerRevisions; empty
	// for a kind that keeps none (a Job).
	History() (kind string, resource schema.GroupResource)
	// of takes a typed object of this kind.
	of(obj runtime.Object) (PodWorkload, bool)
}

// RolloutKind is a kind `kubectl rollout` knows (Deployment, StatefulSet, DaemonSet): its
// workloads are Rollouts, with a history to read and a previous revision to go back to. A PodKind
// that is not one (a Job) runs to completion: its workloads are Completions.
type RolloutKind interface {
	PodKind
	// KubectlHistory reads a workload's rollout history with kubectl's HistoryViewer, the code
	// behind `kubectl rollout history` and `rollout undo`: the pod template of each revision number.
	KubectlHistory(c client.Interface, namespace, name string) (map[int64]*corev1.PodTemplateSpec, error)
	// Rollbacker is kubectl's `rollout undo` for the kind.
	Rollbacker(c client.Interface) (kubectlcopy.Rollbacker, error)
}

// Workload is one object of a Kind, as last read: what every kind answers. A kind judged by its
// status alone answers no more; a PodWorkload is one that runs pods.
type Workload interface {
	Kind() Kind
	// Object is the object: *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet,
	// *batchv1.Job, or *unstructured.Unstructured for any other kind.
	Object() runtime.Object
	Meta() metav1.Object
	// Progress is the counts of its progress line: "1/3 updated, 0/3 available".
	Progress() string
}

// PodWorkload is a workload that runs pods from a pod template, revision by revision: a Rollout
// or a Completion.
type PodWorkload interface {
	Workload
	// Selector selects its pods; an unusable selector selects everything (ownership still decides).
	Selector() labels.Selector
	// Template is the pod template of its spec.
	Template() *corev1.PodTemplateSpec
	// Paused says whether the controller is told to leave it alone (a paused Deployment, a
	// suspended Job).
	Paused() bool
	// Revisions answers which revision is new and which came before it, as its controller does;
	// see the implementations for each kind. cur is nil while the controller has not acted yet.
	Revisions(h History) (cur, prev *Revision)
	// ListHistory reads its revisions through the API, at most limit of them.
	ListHistory(ctx context.Context, c client.Interface, limit int64) (History, error)
}

// Rollout is a workload of a RolloutKind: its new revision replaces the pods of the one before.
type Rollout interface {
	PodWorkload
	// RolloutStatus asks kubectl's own status viewer whether the rollout is complete, so that
	// "complete" means exactly what `kubectl rollout status` means.
	RolloutStatus() (message string, done bool, err error)
	// Stalls are what its controller itself has concluded about the rollout, in the order of its
	// conditions: a Deployment past its progress deadline, or one whose controller cannot create
	// pods. None while the controller has not observed the current generation.
	Stalls() []Stall
	// Conditions are the controller's status conditions the diagnosis quotes as evidence (a
	// Deployment's); nil for a kind whose conditions say nothing of the rollout.
	Conditions() []Condition
	// BlockedByBrokenPods says whether, after an undo, the controller would wait for the failed
	// revision's not-ready pods instead of replacing them, and which revision failed (the one it
	// was rolling out, known by name and its pods' label): a StatefulSet under OrderedReady or
	// OnDelete (kubernetes#67250).
	BlockedByBrokenPods() (failed *Revision, blocked bool)
}

// ManualRollbackKind is a PodKind with revisions whose rollback belongs to its own controller and
// tooling (an Argo Rollout: abort, then undo through the Rollout's own spec): the gate does not
// roll it back half-way with kubectl's undo, it says the commands.
type ManualRollbackKind interface {
	PodKind
	// UndoCommands are the commands, in order, that roll the workload back.
	UndoCommands(namespace, name string) []string
	// Command is the kind's own tool's command for a verb of `kubectl rollout` (status, undo,
	// restart, abort) on one workload, as words to quote; the diagnosis writes its fixes with it.
	Command(verb, namespace, name string) []string
}

// Completion is a workload of a PodKind that is no RolloutKind (a Job): its pods are meant to
// exit. Its Outcome is the verdict, a pod that ends is an attempt and not a crash, a finished
// workload has nothing left to soak, and there is no earlier revision to roll back to.
type Completion interface {
	PodWorkload
	// Outcome is what its controller has concluded.
	Outcome() Outcome
}

// Stall is one conclusion of a rollout's controller: DeadlineExceeded (it gave up on the
// rollout), CannotCreate (it cannot create pods, since Since: a quota may clear, a denial not),
// or Failed (it says the rollout failed, for a reason of its own: an Argo Rollout Degraded,
// aborted or with an invalid spec; Reason is its word).
type Stall struct {
	DeadlineExceeded, CannotCreate, Failed bool
	Reason, Message                        string
	Since                                  time.Time
}

// Outcome is a controller's own final word on a workload that runs to completion: done, failed
// (Reason and Message are its condition's), or neither yet (the zero Outcome).
type Outcome struct {
	Done, Failed    bool
	Reason, Message string
}

// Lookup finds a kind by any of the names kubectl accepts for it (deployment, deploy,
// deployments.apps, Deployment, ...). It is the one place where the kinds are told apart.
func Lookup(name string) (PodKind, bool) {
	switch strings.ToLower(name) {
	case "deployment", "deployments", "deploy", "deployment.apps", "deployments.apps":
		return deployments, true
	case "statefulset", "statefulsets", "sts", "statefulset.apps", "statefulsets.apps":
		return statefulSets, true
	case "daemonset", "daemonsets", "ds", "daemonset.apps", "daemonsets.apps":
		return daemonSets, true
	case "job", "jobs", "job.batch", "jobs.batch":
		return jobs, true
	}
	return nil, false
}

// Kinds are the kinds the gate judges by their pods, in the order it reads them.
func Kinds() []PodKind { return []PodKind{deployments, statefulSets, daemonSets, jobs} }

// RolloutKinds are the kinds `kubectl rollout` knows, the ones a label selector (-l) picks.
func RolloutKinds() []RolloutKind { return []RolloutKind{deployments, statefulSets, daemonSets} }

// KindList names the kinds the gate judges for messages: "Deployments, StatefulSets, DaemonSets
// and Jobs".
func KindList() string {
	ks := Kinds()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name() + "s"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Pauser is a workload whose controller can hold its rollout on a pause that waits for a person
// or a set time (an Argo Rollout's canary pause step): not a failure, not healthy, and not a lack
// of progress either.
type Pauser interface {
	// Pause says what it waits on ("canary step 2 of 3 (pause with no duration: until
	// promoted; CanaryPauseStep)"); "" when it is not paused.
	Pause() string
	// Unpause is the command that lets the rollout go on ("kubectl argo rollouts promote api -n
	// prod"), for the message of a timeout on a pause.
	Unpause() string
}

// For wraps a typed object of a kind the gate judges by its pods, or an Argo Rollout read as
// unstructured.
func For(obj runtime.Object) (PodWorkload, error) {
	for _, k := range Kinds() {
		if w, ok := k.of(obj); ok {
			return w, nil
		}
	}
	if w, ok := argoRollouts.of(obj); ok {
		return w, nil
	}
	return nil, fmt.Errorf("cannot judge workloads of type %T: only %s", obj, KindList())
}

// RefOf names a workload: its kind, namespace and name.
func RefOf(w Workload) report.Ref {
	return report.Ref{Kind: w.Kind().Name(), Namespace: w.Meta().GetNamespace(), Name: w.Meta().GetName()}
}

// GroupKind is the kind with its API group, as kubectl's helpers take it.
func GroupKind(k Kind) schema.GroupKind {
	return schema.GroupKind{Group: k.GroupResource().Group, Kind: k.Name()}
}

// Cached is one kind's informers in a namespace and reads through their caches.
type Cached struct {
	// Informers are to be started and synced before Get is called, in this order.
	Informers []Informer
	// Get reads a workload from the cache; a missing one is an API NotFound error.
	Get func(name string) (Workload, error)
	// History is the part of a workload's history the watch keeps cached: a Deployment's
	// ReplicaSets, which say which pods are new. Nil for the kinds whose history the watch does not
	// need (StatefulSets, DaemonSets and Jobs).
	History func(w PodWorkload) History
	// ControllerOf names the workload that controls the history object ref points to (a pod's
	// ReplicaSet → its Deployment), as the cached object's own owner reference says; "" when ref
	// is not one of this kind's cached history objects. Nil for kinds whose pods name their
	// workload directly.
	ControllerOf func(ref *metav1.OwnerReference) string
}

// Informer is one shared informer, with the resource it watches (for the RBAC rule an error
// names) and a probe that lists one item, so that missing access is said before the watch starts.
type Informer struct {
	Resource schema.GroupResource
	Informer cache.SharedIndexInformer
	Probe    func(ctx context.Context) error
	// Run, when set, runs an informer that is not from client.Informers (a dynamic one); the
	// watch calls it in a goroutine, until stop is closed.
	Run func(stop <-chan struct{})
}

// rolloutStatus asks kubectl's own status viewer whether the rollout of w is complete.
func rolloutStatus(k Kind, obj runtime.Object) (string, bool, error) {
	gk := GroupKind(k)
	viewer, err := kubectlcopy.StatusViewerFor(gk)
	if err != nil {
		return "", false, err
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", false, fmt.Errorf("convert %s to unstructured: %w", gk.Kind, err)
	}
	return viewer.Status(&unstructured.Unstructured{Object: u}, 0)
}

// PodReady reports whether the pod's Ready condition is true (podstate.Ready, for the callers
// outside the watch and the diagnosis).
func PodReady(p *corev1.Pod) bool { return podstate.Ready(p) }

func selectorOf(ls *metav1.LabelSelector) labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || ls == nil {
		return labels.Everything()
	}
	return sel
}

func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}
