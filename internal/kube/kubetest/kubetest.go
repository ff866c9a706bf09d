// Package kubetest makes client-go's fake clientset the gate's client.Interface, so that unit
// tests keep its object tracker, reactors and fake watches, and builds the objects those tests
// share. It is for _test.go files only: the fake clientset links every API group client-go knows.
package kubetest

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryv1client "k8s.io/client-go/kubernetes/typed/discovery/v1"
	networkingv1client "k8s.io/client-go/kubernetes/typed/networking/v1"
	storagev1client "k8s.io/client-go/kubernetes/typed/storage/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// Wrap serves c (a fake clientset, usually) as the gate's client.
func Wrap(c kubernetes.Interface) client.Interface { return clientset{c} }

// Unwrap returns the clientset Wrap was given, or nil for a client it did not make.
func Unwrap(c client.Interface) kubernetes.Interface {
	if w, ok := c.(clientset); ok {
		return w.c
	}
	return nil
}

type clientset struct{ c kubernetes.Interface }

// IsWatchListSemanticsUnSupported passes on the fake's answer: informers must not ask it for a
// watch list, which it cannot serve.
func (w clientset) IsWatchListSemanticsUnSupported() bool {
	u, ok := w.c.(interface{ IsWatchListSemanticsUnSupported() bool })
	return ok && u.IsWatchListSemanticsUnSupported()
}

func (w clientset) CoreV1() client.CoreV1Interface   { return coreV1{w.c.CoreV1()} }
func (w clientset) AppsV1() client.AppsV1Interface   { return appsV1{w.c.AppsV1()} }
func (w clientset) BatchV1() client.BatchV1Interface { return batchV1{w.c.BatchV1()} }
func (w clientset) NetworkingV1() client.NetworkingV1Interface {
	return networkingV1{w.c.NetworkingV1()}
}
func (w clientset) DiscoveryV1() client.DiscoveryV1Interface { return discoveryV1{w.c.DiscoveryV1()} }
func (w clientset) CoordinationV1() client.CoordinationV1Interface {
	return coordinationV1{w.c.CoordinationV1()}
}
func (w clientset) StorageV1() client.StorageV1Interface { return storageV1{w.c.StorageV1()} }

type coreV1 struct{ c corev1client.CoreV1Interface }

func (g coreV1) Pods(ns string) client.PodInterface { return g.c.Pods(ns) }
func (g coreV1) Events(ns string) client.ResourceInterface[*corev1.Event, *corev1.EventList] {
	return g.c.Events(ns)
}
func (g coreV1) Secrets(ns string) client.ResourceInterface[*corev1.Secret, *corev1.SecretList] {
	return g.c.Secrets(ns)
}
func (g coreV1) ConfigMaps(ns string) client.ResourceInterface[*corev1.ConfigMap, *corev1.ConfigMapList] {
	return g.c.ConfigMaps(ns)
}
func (g coreV1) Services(ns string) client.ResourceInterface[*corev1.Service, *corev1.ServiceList] {
	return g.c.Services(ns)
}

//nolint:staticcheck // the gate's fallback where EndpointSlices cannot be listed
func (g coreV1) Endpoints(ns string) client.ResourceInterface[*corev1.Endpoints, *corev1.EndpointsList] {
	return g.c.Endpoints(ns)
}
func (g coreV1) Nodes() client.ResourceInterface[*corev1.Node, *corev1.NodeList] { return g.c.Nodes() }
func (g coreV1) PersistentVolumeClaims(ns string) client.ResourceInterface[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList] {
	return g.c.PersistentVolumeClaims(ns)
}

type appsV1 struct{ c appsv1client.AppsV1Interface }

func (g appsV1) Deployments(ns string) client.ResourceInterface[*appsv1.Deployment, *appsv1.DeploymentList] {
	return g.c.Deployments(ns)
}
func (g appsV1) ReplicaSets(ns string) client.ResourceInterface[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
	return g.c.ReplicaSets(ns)
}
func (g appsV1) StatefulSets(ns string) client.ResourceInterface[*appsv1.StatefulSet, *appsv1.StatefulSetList] {
	return g.c.StatefulSets(ns)
}
func (g appsV1) DaemonSets(ns string) client.ResourceInterface[*appsv1.DaemonSet, *appsv1.DaemonSetList] {
	return g.c.DaemonSets(ns)
}
func (g appsV1) ControllerRevisions(ns string) client.ResourceInterface[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList] {
	return g.c.ControllerRevisions(ns)
}

type batchV1 struct {
	c batchv1client.BatchV1Interface
}

func (g batchV1) Jobs(ns string) client.ResourceInterface[*batchv1.Job, *batchv1.JobList] {
	return g.c.Jobs(ns)
}

type networkingV1 struct {
	c networkingv1client.NetworkingV1Interface
}

func (g networkingV1) NetworkPolicies(ns string) client.ResourceInterface[*networkingv1.NetworkPolicy, *networkingv1.NetworkPolicyList] {
	return g.c.NetworkPolicies(ns)
}

type discoveryV1 struct {
	c discoveryv1client.DiscoveryV1Interface
}

func (g discoveryV1) EndpointSlices(ns string) client.ResourceInterface[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList] {
	return g.c.EndpointSlices(ns)
}

type coordinationV1 struct {
	c coordinationv1client.CoordinationV1Interface
}

func (g coordinationV1) Leases(ns string) client.ResourceInterface[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return g.c.Leases(ns)
}

type storageV1 struct {
	c storagev1client.StorageV1Interface
}

// StorageClasses serves the fake clientset's StorageClasses by their metadata, as the gate's
// metadata client reads them.
func (g storageV1) StorageClasses() client.MetadataInterface {
	return storageClasses{g.c.StorageClasses()}
}

type storageClasses struct {
	c storagev1client.StorageClassInterface
}

func (s storageClasses) Get(ctx context.Context, name string, opts metav1.GetOptions, _ ...string) (*metav1.PartialObjectMetadata, error) {
	sc, err := s.c.Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return classMeta(sc), nil
}

func (s storageClasses) List(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	list, err := s.c.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &metav1.PartialObjectMetadataList{ListMeta: list.ListMeta}
	for i := range list.Items {
		out.Items = append(out.Items, *classMeta(&list.Items[i]))
	}
	return out, nil
}

func classMeta(sc *storagev1.StorageClass) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"}, ObjectMeta: sc.ObjectMeta}
}
