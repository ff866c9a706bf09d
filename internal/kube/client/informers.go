package client

import (
	"context"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// Informers keeps one shared informer per resource of a namespace, whichever kinds read it, and
// starts them together: what the gate used of client-go's shared informer factory, whose package
// links the informers and listers of every API group.
type Informers struct {
	client    Interface
	namespace string
	transform cache.TransformFunc
	tweak     func(*metav1.ListOptions)

	mu        sync.Mutex
	informers map[schema.GroupResource]cache.SharedIndexInformer
	started   map[schema.GroupResource]bool
}

// InformerOption configures Informers, as informers.SharedInformerOption does the factory.
type InformerOption func(*Informers)

// WithTransform sets a transform on every informer (to drop what the cache need not keep).
func WithTransform(t cache.TransformFunc) InformerOption {
	return func(f *Informers) { f.transform = t }
}

// WithTweakListOptions edits every list and watch request (a field selector, say).
func WithTweakListOptions(tweak func(*metav1.ListOptions)) InformerOption {
	return func(f *Informers) { f.tweak = tweak }
}

// NewInformers makes the informers of one namespace over c.
func NewInformers(c Interface, namespace string, opts ...InformerOption) *Informers {
	f := &Informers{client: c, namespace: namespace,
		informers: map[schema.GroupResource]cache.SharedIndexInformer{}, started: map[schema.GroupResource]bool{}}
	for _, o := range opts {
		o(f)
	}
	return f
}

// For returns the shared informer of a resource, made on first use; the gate's typed resources
// only (pods, events, the apps/v1 workloads and their history, Jobs).
func (f *Informers) For(gr schema.GroupResource) (cache.SharedIndexInformer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[gr]; ok {
		return inf, nil
	}
	c, ns := f.client, f.namespace
	var inf cache.SharedIndexInformer
	switch gr {
	case corev1.Resource("pods"):
		inf = f.newInformer(&corev1.Pod{}, listWatchOf(c.CoreV1().Pods(ns)))
	case corev1.Resource("events"):
		inf = f.newInformer(&corev1.Event{}, listWatchOf(c.CoreV1().Events(ns)))
	case appsv1.Resource("deployments"):
		inf = f.newInformer(&appsv1.Deployment{}, listWatchOf(c.AppsV1().Deployments(ns)))
	case appsv1.Resource("replicasets"):
		inf = f.newInformer(&appsv1.ReplicaSet{}, listWatchOf(c.AppsV1().ReplicaSets(ns)))
	case appsv1.Resource("statefulsets"):
		inf = f.newInformer(&appsv1.StatefulSet{}, listWatchOf(c.AppsV1().StatefulSets(ns)))
	case appsv1.Resource("daemonsets"):
		inf = f.newInformer(&appsv1.DaemonSet{}, listWatchOf(c.AppsV1().DaemonSets(ns)))
	case appsv1.Resource("controllerrevisions"):
		inf = f.newInformer(&appsv1.ControllerRevision{}, listWatchOf(c.AppsV1().ControllerRevisions(ns)))
	case batchv1.Resource("jobs"):
		inf = f.newInformer(&batchv1.Job{}, listWatchOf(c.BatchV1().Jobs(ns)))
	default:
		return nil, fmt.Errorf("no informer for resource %q", gr.WithVersion("v1"))
	}
	f.informers[gr] = inf
	return inf, nil
}

// listWatcher is the part of a typed client an informer calls.
type listWatcher[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

type listWatch struct {
	list  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

func listWatchOf[L runtime.Object](c listWatcher[L]) listWatch {
	return listWatch{
		list:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		watch: c.Watch,
	}
}

// newInformer is a generated informer's constructor (NewFilteredPodInformer and the like) with
// the factory's defaults: no resync, the namespace index, the transform.
func (f *Informers) newInformer(obj runtime.Object, lw listWatch) cache.SharedIndexInformer {
	tweak := func(o *metav1.ListOptions) {
		if f.tweak != nil {
			f.tweak(o)
		}
	}
	inf := cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				tweak(&o)
				return lw.list(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				tweak(&o)
				return lw.watch(ctx, o)
			},
		}, f.client),
		obj,
		cache.SharedIndexInformerOptions{Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}},
	)
	if f.transform != nil {
		_ = inf.SetTransform(f.transform) // cannot fail: the informer has not started
	}
	return inf
}

// Start runs every informer not yet started until stop is closed.
func (f *Informers) Start(stop <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for gr, inf := range f.informers {
		if !f.started[gr] {
			go inf.Run(stop)
			f.started[gr] = true
		}
	}
}
