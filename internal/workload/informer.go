package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// genericInformer is f.ForResource(gr.WithVersion("v1")) for the resources the typed kinds watch.
// ForResource itself switches over every resource client-go knows, so calling it links the
// informers, listers and typed clients of every API group into the binary: about 4 MB of the
// gate's image, and package initialisation at every start, for resources the gate never reads.
func genericInformer(f informers.SharedInformerFactory, gr schema.GroupResource) (informers.GenericInformer, error) {
	var i cache.SharedIndexInformer
	switch gr {
	case appsv1.Resource("deployments"):
		i = f.Apps().V1().Deployments().Informer()
	case appsv1.Resource("replicasets"):
		i = f.Apps().V1().ReplicaSets().Informer()
	case appsv1.Resource("statefulsets"):
		i = f.Apps().V1().StatefulSets().Informer()
	case appsv1.Resource("daemonsets"):
		i = f.Apps().V1().DaemonSets().Informer()
	case appsv1.Resource("controllerrevisions"):
		i = f.Apps().V1().ControllerRevisions().Informer()
	case batchv1.Resource("jobs"):
		i = f.Batch().V1().Jobs().Informer()
	default:
		return nil, fmt.Errorf("no informer for resource %q", gr.WithVersion("v1"))
	}
	return typedGenericInformer{informer: i, resource: gr}, nil
}

// typedGenericInformer is client-go's generic informer (informers/generic.go) around a typed one.
type typedGenericInformer struct {
	informer cache.SharedIndexInformer
	resource schema.GroupResource
}

func (g typedGenericInformer) Informer() cache.SharedIndexInformer { return g.informer }

func (g typedGenericInformer) Lister() cache.GenericLister {
	return cache.NewGenericLister(g.informer.GetIndexer(), g.resource)
}
