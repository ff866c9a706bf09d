package client

import (
	"context"
	"sync"

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

// For returns the shared informer of a resource, made on first use from obj (an empty object of
// its type) and lw. Which typed client serves a resource is the caller's knowledge (package
// workload's kinds, the watch's pods and events); later callers share the first one's informer.
func (f *Informers) For(gr schema.GroupResource, obj runtime.Object, lw ListWatch) cache.SharedIndexInformer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[gr]; ok {
		return inf
	}
	inf := f.newInformer(obj, lw)
	f.informers[gr] = inf
	return inf
}

// ListWatch is what an informer calls: a typed client's list and watch, the type erased.
type ListWatch struct {
	List  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	Watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

// listWatcher is the part of a typed client an informer calls.
type listWatcher[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// ListWatchOf is the ListWatch of a typed resource client, e.g. c.CoreV1().Pods(ns).
func ListWatchOf[L runtime.Object](c listWatcher[L]) ListWatch {
	return ListWatch{
		List:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) },
		Watch: c.Watch,
	}
}

// newInformer is a generated informer's constructor (NewFilteredPodInformer and the like) with
// the factory's defaults: no resync, the namespace index, the transform.
func (f *Informers) newInformer(obj runtime.Object, lw ListWatch) cache.SharedIndexInformer {
	tweak := func(o *metav1.ListOptions) {
		if f.tweak != nil {
			f.tweak(o)
		}
	}
	inf := cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				tweak(&o)
				return lw.List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				tweak(&o)
				return lw.Watch(ctx, o)
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
