package workload

import (
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kubectlcopy"
)

// typedKind is a Kind served by the typed clients and shared informers: the apps/v1
// workloads and batch/v1 Jobs. Its fields are the few calls that differ between them.
type typedKind struct {
	name     string
	resource schema.GroupResource
	// history is where its revisions are kept; zero for a kind that keeps none (a Job).
	history historySource
	// watchHistory: the watch caches the history too (a Deployment's ReplicaSets say which pods are new).
	watchHistory bool
	// self is the kind as the package hands it out (a rolloutKind, or the typedKind itself for
	// a Job): what its workloads answer to Kind(), so that a type switch on it sees what it can do.
	self PodKind

	api  apiCalls
	wrap func(k *typedKind, obj runtime.Object) (PodWorkload, bool)
}

// rolloutKind is a typedKind `kubectl rollout` knows: a RolloutKind.
type rolloutKind struct{ *typedKind }

// newRolloutKind makes k a RolloutKind.
func newRolloutKind(k *typedKind) rolloutKind {
	r := rolloutKind{k}
	k.self = r
	return r
}

// newCompletionKind makes k a PodKind that runs to completion (a Job): no RolloutKind.
func newCompletionKind(k *typedKind) *typedKind {
	k.self = k
	return k
}

func (k rolloutKind) KubectlHistory(c client.Interface, namespace, name string) (map[int64]*corev1.PodTemplateSpec, error) {
	hv, err := kubectlcopy.HistoryViewerFor(GroupKind(k), c)
	if err != nil {
		return nil, err
	}
	history, err := hv.GetHistory(namespace, name)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*corev1.PodTemplateSpec, len(history))
	for rev, obj := range history {
		t, ok := k.kubectlTemplate(obj)
		if !ok {
			return nil, fmt.Errorf("revision %d: unexpected history object %T", rev, obj)
		}
		out[rev] = t
	}
	return out, nil
}

func (k rolloutKind) Rollbacker(c client.Interface) (kubectlcopy.Rollbacker, error) {
	return kubectlcopy.RollbackerFor(GroupKind(k), c)
}

// historySource is the kind of object that holds a workload kind's revisions.
type historySource struct {
	kind     string
	resource schema.GroupResource
	api      apiCalls
}

var (
	replicaSets = historySource{"ReplicaSet", appsv1.Resource("replicasets"),
		callsOf(func(c client.Interface, ns string) typedClient[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
			return c.AppsV1().ReplicaSets(ns)
		})}
	controllerRevisions = historySource{"ControllerRevision", appsv1.Resource("controllerrevisions"),
		callsOf(func(c client.Interface, ns string) typedClient[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList] {
			return c.AppsV1().ControllerRevisions(ns)
		})}
)

// apiCalls are a typed client's reads, with the type erased: get and list, and the list and
// watch of an informer of empty objects like newObj's.
type apiCalls struct {
	get       func(ctx context.Context, c client.Interface, ns, name string) (runtime.Object, error)
	list      func(ctx context.Context, c client.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error)
	listWatch func(c client.Interface, ns string) client.ListWatch
	newObj    func() runtime.Object
}

// typedClient is the part of a client-go typed client the gate reads through.
type typedClient[T, L runtime.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

func callsOf[T, L runtime.Object](clientOf func(c client.Interface, ns string) typedClient[T, L]) apiCalls {
	return apiCalls{
		get: func(ctx context.Context, c client.Interface, ns, name string) (runtime.Object, error) {
			return clientOf(c, ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, c client.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return clientOf(c, ns).List(ctx, opts)
		},
		listWatch: func(c client.Interface, ns string) client.ListWatch {
			return client.ListWatchOf[L](clientOf(c, ns))
		},
		newObj: func() runtime.Object {
			var zero T
			return reflect.New(reflect.TypeOf(zero).Elem()).Interface().(runtime.Object)
		},
	}
}

// wrapAs makes a kind's wrap from a constructor of its Workload.
func wrapAs[T runtime.Object](mk func(k *typedKind, obj T) PodWorkload) func(*typedKind, runtime.Object) (PodWorkload, bool) {
	return func(k *typedKind, obj runtime.Object) (PodWorkload, bool) {
		t, ok := obj.(T)
		if !ok {
			return nil, false
		}
		return mk(k, t), true
	}
}

func (k *typedKind) Name() string                        { return k.name }
func (k *typedKind) GroupResource() schema.GroupResource { return k.resource }
func (k *typedKind) History() (string, schema.GroupResource) {
	return k.history.kind, k.history.resource
}
func (k *typedKind) Namespaced() bool                          { return true }
func (k *typedKind) of(obj runtime.Object) (PodWorkload, bool) { return k.wrap(k, obj) }

// kubectlTemplate: kubectl's history of a Deployment is its ReplicaSets; of a StatefulSet or
// DaemonSet, the workload with each revision applied.
func (k rolloutKind) kubectlTemplate(obj runtime.Object) (*corev1.PodTemplateSpec, bool) {
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		return &rs.Spec.Template, true
	}
	if w, ok := k.of(obj); ok {
		return w.Template(), true
	}
	return nil, false
}

func (k *typedKind) Get(ctx context.Context, c client.Interface, ns, name string) (Workload, error) {
	obj, err := k.api.get(ctx, c, ns, name)
	if err != nil {
		return nil, err
	}
	return k.mustWrap(obj)
}

func (k *typedKind) List(ctx context.Context, c client.Interface, ns string, opts metav1.ListOptions) ([]Workload, error) {
	list, err := k.api.list(ctx, c, ns, opts)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", k.resource, err)
	}
	out := make([]Workload, 0, len(items))
	for _, obj := range items {
		w, err := k.mustWrap(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (k *typedKind) mustWrap(obj runtime.Object) (PodWorkload, error) {
	if w, ok := k.of(obj); ok {
		return w, nil
	}
	return nil, fmt.Errorf("%s: unexpected object %T", k.resource, obj)
}

// readHistory lists the kind's history objects (ReplicaSets or ControllerRevisions).
func (k *typedKind) readHistory(ctx context.Context, c client.Interface, ns string, sel labels.Selector, limit int64) (History, error) {
	if k.history.api.list == nil {
		return History{}, nil // a kind without revisions (a Job)
	}
	list, err := k.history.api.list(ctx, c, ns, metav1.ListOptions{LabelSelector: sel.String(), Limit: limit})
	if err != nil {
		return History{}, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return History{}, fmt.Errorf("list %s: %w", k.history.resource, err)
	}
	return historyOf(items), nil
}

func (k *typedKind) Cache(c client.Interface, f *client.Informers, ns string) (Cached, error) {
	probe := metav1.ListOptions{Limit: 1}
	informer := func(gr schema.GroupResource, api apiCalls) (Informer, cache.GenericLister, error) {
		inf := f.For(gr, api.newObj(), api.listWatch(c, ns))
		return Informer{Resource: gr, Informer: inf, Probe: func(ctx context.Context) error {
			_, err := api.list(ctx, c, ns, probe)
			return err
		}}, cache.NewGenericLister(inf.GetIndexer(), gr), nil
	}
	var out Cached
	if k.watchHistory {
		hi, hgi, err := informer(k.history.resource, k.history.api)
		if err != nil {
			return Cached{}, err
		}
		out.Informers = append(out.Informers, hi)
		out.History = func(w PodWorkload) History {
			objs, _ := hgi.ByNamespace(ns).List(w.Selector())
			return historyOf(objs)
		}
		out.ControllerOf = func(ref *metav1.OwnerReference) string {
			if ref.Kind != k.history.kind {
				return ""
			}
			obj, err := hgi.ByNamespace(ns).Get(ref.Name)
			if err != nil {
				return ""
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				return ""
			}
			if owner := metav1.GetControllerOfNoCopy(m); owner != nil && owner.Kind == k.name && m.GetUID() == ref.UID {
				return owner.Name
			}
			return ""
		}
	}
	wi, wgi, err := informer(k.resource, k.api)
	if err != nil {
		return Cached{}, err
	}
	out.Informers = append(out.Informers, wi)
	out.Get = func(name string) (Workload, error) {
		obj, err := wgi.ByNamespace(ns).Get(name)
		if err != nil {
			return nil, err
		}
		return k.mustWrap(obj)
	}
	return out, nil
}

func historyOf(objs []runtime.Object) History {
	var h History
	for _, obj := range objs {
		switch o := obj.(type) {
		case *appsv1.ReplicaSet:
			h.ReplicaSets = append(h.ReplicaSets, o)
		case *appsv1.ControllerRevision:
			h.ControllerRevisions = append(h.ControllerRevisions, o)
		}
	}
	return h
}

// base is what every apps/v1 workload answers alike.
type base struct {
	kind     *typedKind
	obj      metav1.Object
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
}

func (b base) Kind() Kind                        { return b.kind.self }
func (b base) Object() runtime.Object            { return b.obj.(runtime.Object) }
func (b base) Meta() metav1.Object               { return b.obj }
func (b base) Selector() labels.Selector         { return selectorOf(b.selector) }
func (b base) Template() *corev1.PodTemplateSpec { return b.template }
func (base) Paused() bool                        { return false }
func (b base) ListHistory(ctx context.Context, c client.Interface, limit int64) (History, error) {
	return b.kind.readHistory(ctx, c, b.obj.GetNamespace(), b.Selector(), limit)
}

// rolloutBase is what the workloads of a rolloutKind answer alike; each kind overrides what its
// controller does differently.
type rolloutBase struct{ base }

func (b rolloutBase) RolloutStatus() (string, bool, error) {
	return rolloutStatus(b.Kind(), b.Object())
}
func (rolloutBase) Stalls() []Stall                        { return nil }
func (rolloutBase) Conditions() []Condition                { return nil }
func (rolloutBase) BlockedByBrokenPods() (*Revision, bool) { return nil, false }
