// Package client is the gate's Kubernetes client: the part of client-go's clientset the gate
// calls, with the same method names and shapes, over a scheme of only the API groups it reads.
//
// client-go's clientset (and its informers, discovery and REST mapper) import its scheme package,
// which registers every built-in API group: linking it put 56 API groups into the gate, about
// 18 MB of its binary, and their registration into every start. The typed resources here are
// client-go's own generic clients (gentype), so requests, protobuf and watches are client-go's.
package client

import (
	"context"
	"fmt"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/gentype"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// Interface is the subset of client-go's kubernetes.Interface the gate uses. Its typed resource
// interfaces are method subsets of client-go's, so client-go's fake clientset serves as one in
// tests (see the kubetest package).
type Interface interface {
	CoreV1() CoreV1Interface
	AppsV1() AppsV1Interface
	BatchV1() BatchV1Interface
	NetworkingV1() NetworkingV1Interface
	DiscoveryV1() DiscoveryV1Interface
	CoordinationV1() CoordinationV1Interface
	StorageV1() StorageV1Interface
}

// ResourceInterface is the part of a client-go typed resource client the gate calls.
type ResourceInterface[T, L runtime.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// PodInterface is a pod client with the logs request of client-go's pod expansion.
type PodInterface interface {
	ResourceInterface[*corev1.Pod, *corev1.PodList]
	GetLogs(name string, opts *corev1.PodLogOptions) *rest.Request
}

// CoreV1Interface is the part of client-go's CoreV1Interface the gate calls.
type CoreV1Interface interface {
	Pods(namespace string) PodInterface
	Events(namespace string) ResourceInterface[*corev1.Event, *corev1.EventList]
	Secrets(namespace string) ResourceInterface[*corev1.Secret, *corev1.SecretList]
	ConfigMaps(namespace string) ResourceInterface[*corev1.ConfigMap, *corev1.ConfigMapList]
	Services(namespace string) ResourceInterface[*corev1.Service, *corev1.ServiceList]
	Endpoints(namespace string) ResourceInterface[*corev1.Endpoints, *corev1.EndpointsList] //nolint:staticcheck // the fallback where EndpointSlices cannot be listed
	Nodes() ResourceInterface[*corev1.Node, *corev1.NodeList]
	PersistentVolumeClaims(namespace string) ResourceInterface[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList]
}

// AppsV1Interface is the part of client-go's AppsV1Interface the gate calls.
type AppsV1Interface interface {
	Deployments(namespace string) ResourceInterface[*appsv1.Deployment, *appsv1.DeploymentList]
	ReplicaSets(namespace string) ResourceInterface[*appsv1.ReplicaSet, *appsv1.ReplicaSetList]
	StatefulSets(namespace string) ResourceInterface[*appsv1.StatefulSet, *appsv1.StatefulSetList]
	DaemonSets(namespace string) ResourceInterface[*appsv1.DaemonSet, *appsv1.DaemonSetList]
	ControllerRevisions(namespace string) ResourceInterface[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList]
}

// BatchV1Interface is the part of client-go's BatchV1Interface the gate calls.
type BatchV1Interface interface {
	Jobs(namespace string) ResourceInterface[*batchv1.Job, *batchv1.JobList]
}

// NetworkingV1Interface is the part of client-go's NetworkingV1Interface the gate calls.
type NetworkingV1Interface interface {
	NetworkPolicies(namespace string) ResourceInterface[*networkingv1.NetworkPolicy, *networkingv1.NetworkPolicyList]
}

// DiscoveryV1Interface is the part of client-go's DiscoveryV1Interface the gate calls.
type DiscoveryV1Interface interface {
	EndpointSlices(namespace string) ResourceInterface[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList]
}

// CoordinationV1Interface reads the kubelets' node Leases: a renewal says a node's kubelet is alive
// and reaching the API server (the watch's current-view check, fresh.go in package watch).
type CoordinationV1Interface interface {
	Leases(namespace string) ResourceInterface[*coordinationv1.Lease, *coordinationv1.LeaseList]
}

// StorageV1Interface reads StorageClasses: a claim that names one that does not exist never binds
// (claims.go in package watch, and the diagnosis). Their metadata is all the gate reads (the name,
// the default-class annotation), so they come through client-go's metadata client: the
// storage.k8s.io types would be one more API group in the binary.
type StorageV1Interface interface {
	StorageClasses() MetadataInterface
}

// MetadataInterface reads objects of one resource by their metadata alone.
type MetadataInterface interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions, subresources ...string) (*metav1.PartialObjectMetadata, error)
	List(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
}

// StorageClasses is the resource StorageV1Interface reads.
var StorageClasses = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}

// Scheme holds the API groups the gate reads, and nothing else; Codecs are its serializers
// (JSON, YAML and protobuf), as client-go's scheme package has them for every group.
var (
	Scheme         = runtime.NewScheme()
	Codecs         = serializer.NewCodecFactory(Scheme)
	parameterCodec = runtime.NewParameterCodec(Scheme)
)

// groupVersions are the groups of Scheme, with the path they are served under.
var groupVersions = []struct {
	gv      schema.GroupVersion
	apiPath string
	add     func(*runtime.Scheme) error
}{
	{corev1.SchemeGroupVersion, "/api", corev1.AddToScheme},
	{appsv1.SchemeGroupVersion, "/apis", appsv1.AddToScheme},
	{batchv1.SchemeGroupVersion, "/apis", batchv1.AddToScheme},
	{networkingv1.SchemeGroupVersion, "/apis", networkingv1.AddToScheme},
	{discoveryv1.SchemeGroupVersion, "/apis", discoveryv1.AddToScheme},
	{coordinationv1.SchemeGroupVersion, "/apis", coordinationv1.AddToScheme},
}

func init() {
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	for _, g := range groupVersions {
		utilruntime.Must(g.add(Scheme))
	}
}

// Clientset is the production Interface: one REST client per group version over one shared
// HTTP client, as client-go's clientset builds them.
type Clientset struct {
	core, apps, batch, networking, discovery, coordination rest.Interface
	meta                                                   metadata.Interface
}

// NewForConfig builds a Clientset as client-go's kubernetes.NewForConfig does: the config's
// user agent, rate limiter and transport, shared by every group.
func NewForConfig(c *rest.Config) (*Clientset, error) {
	cfg := *c
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	if cfg.RateLimiter == nil && cfg.QPS > 0 {
		if cfg.Burst <= 0 {
			return nil, fmt.Errorf("burst is required to be greater than 0 when RateLimiter is not set and QPS is set to greater than 0")
		}
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
	}
	httpClient, err := rest.HTTPClientFor(&cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	clients := make([]rest.Interface, len(groupVersions))
	for i, g := range groupVersions {
		if clients[i], err = restClientFor(&cfg, httpClient, g.gv, g.apiPath); err != nil {
			return nil, err
		}
	}
	meta, err := metadata.NewForConfigAndClient(&cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("kubernetes metadata client: %w", err)
	}
	return &Clientset{core: clients[0], apps: clients[1], batch: clients[2], networking: clients[3], discovery: clients[4], coordination: clients[5], meta: meta}, nil
}

// restClientFor is a typed client's REST client (its setConfigDefaults) for one group version.
func restClientFor(c *rest.Config, h *http.Client, gv schema.GroupVersion, apiPath string) (*rest.RESTClient, error) {
	cfg := *c
	cfg.GroupVersion = &gv
	cfg.APIPath = apiPath
	cfg.NegotiatedSerializer = rest.CodecFactoryForGeneratedClient(Scheme, Codecs).WithoutConversion()
	rc, err := rest.RESTClientForConfigAndClient(&cfg, h)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", gv, err)
	}
	return rc, nil
}

func (c *Clientset) CoreV1() CoreV1Interface             { return coreV1{c.core} }
func (c *Clientset) AppsV1() AppsV1Interface             { return appsV1{c.apps} }
func (c *Clientset) BatchV1() BatchV1Interface           { return batchV1{c.batch} }
func (c *Clientset) NetworkingV1() NetworkingV1Interface { return networkingV1{c.networking} }
func (c *Clientset) DiscoveryV1() DiscoveryV1Interface   { return discoveryV1{c.discovery} }
func (c *Clientset) CoordinationV1() CoordinationV1Interface {
	return coordinationV1{c.coordination}
}
func (c *Clientset) StorageV1() StorageV1Interface { return storageV1{c.meta} }

// resource is a generated typed client's constructor: every resource the gate reads prefers
// protobuf, which the watch client asks for (see the gate's Connect).
func resource[T interface {
	runtime.Object
	metav1.Object
}, L runtime.Object](c rest.Interface, name, namespace string, newObj func() T, newList func() L) *gentype.ClientWithList[T, L] {
	return gentype.NewClientWithList(name, c, parameterCodec, namespace, newObj, newList, gentype.PrefersProtobuf[T]())
}

type coreV1 struct{ c rest.Interface }

// RESTClient is the group's REST client, as client-go's CoreV1Client has it.
func (g coreV1) RESTClient() rest.Interface { return g.c }

func (g coreV1) Pods(ns string) PodInterface {
	return pods{resource(g.c, "pods", ns, func() *corev1.Pod { return &corev1.Pod{} }, func() *corev1.PodList { return &corev1.PodList{} })}
}

func (g coreV1) Events(ns string) ResourceInterface[*corev1.Event, *corev1.EventList] {
	return resource(g.c, "events", ns, func() *corev1.Event { return &corev1.Event{} }, func() *corev1.EventList { return &corev1.EventList{} })
}

func (g coreV1) Secrets(ns string) ResourceInterface[*corev1.Secret, *corev1.SecretList] {
	return resource(g.c, "secrets", ns, func() *corev1.Secret { return &corev1.Secret{} }, func() *corev1.SecretList { return &corev1.SecretList{} })
}

func (g coreV1) ConfigMaps(ns string) ResourceInterface[*corev1.ConfigMap, *corev1.ConfigMapList] {
	return resource(g.c, "configmaps", ns, func() *corev1.ConfigMap { return &corev1.ConfigMap{} }, func() *corev1.ConfigMapList { return &corev1.ConfigMapList{} })
}

func (g coreV1) Services(ns string) ResourceInterface[*corev1.Service, *corev1.ServiceList] {
	return resource(g.c, "services", ns, func() *corev1.Service { return &corev1.Service{} }, func() *corev1.ServiceList { return &corev1.ServiceList{} })
}

//nolint:staticcheck // the fallback where EndpointSlices cannot be listed
func (g coreV1) Endpoints(ns string) ResourceInterface[*corev1.Endpoints, *corev1.EndpointsList] {
	return resource(g.c, "endpoints", ns, func() *corev1.Endpoints { return &corev1.Endpoints{} }, func() *corev1.EndpointsList { return &corev1.EndpointsList{} })
}

func (g coreV1) Nodes() ResourceInterface[*corev1.Node, *corev1.NodeList] {
	return resource(g.c, "nodes", "", func() *corev1.Node { return &corev1.Node{} }, func() *corev1.NodeList { return &corev1.NodeList{} })
}

func (g coreV1) PersistentVolumeClaims(ns string) ResourceInterface[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList] {
	return resource(g.c, "persistentvolumeclaims", ns, func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} }, func() *corev1.PersistentVolumeClaimList { return &corev1.PersistentVolumeClaimList{} })
}

// pods adds GetLogs, as client-go's pod_expansion.go has it.
type pods struct {
	*gentype.ClientWithList[*corev1.Pod, *corev1.PodList]
}

func (p pods) GetLogs(name string, opts *corev1.PodLogOptions) *rest.Request {
	return p.GetClient().Get().Namespace(p.GetNamespace()).Name(name).Resource("pods").SubResource("log").VersionedParams(opts, parameterCodec)
}

type appsV1 struct{ c rest.Interface }

func (g appsV1) Deployments(ns string) ResourceInterface[*appsv1.Deployment, *appsv1.DeploymentList] {
	return resource(g.c, "deployments", ns, func() *appsv1.Deployment { return &appsv1.Deployment{} }, func() *appsv1.DeploymentList { return &appsv1.DeploymentList{} })
}

func (g appsV1) ReplicaSets(ns string) ResourceInterface[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
	return resource(g.c, "replicasets", ns, func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} }, func() *appsv1.ReplicaSetList { return &appsv1.ReplicaSetList{} })
}

func (g appsV1) StatefulSets(ns string) ResourceInterface[*appsv1.StatefulSet, *appsv1.StatefulSetList] {
	return resource(g.c, "statefulsets", ns, func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} }, func() *appsv1.StatefulSetList { return &appsv1.StatefulSetList{} })
}

func (g appsV1) DaemonSets(ns string) ResourceInterface[*appsv1.DaemonSet, *appsv1.DaemonSetList] {
	return resource(g.c, "daemonsets", ns, func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} }, func() *appsv1.DaemonSetList { return &appsv1.DaemonSetList{} })
}

func (g appsV1) ControllerRevisions(ns string) ResourceInterface[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList] {
	return resource(g.c, "controllerrevisions", ns, func() *appsv1.ControllerRevision { return &appsv1.ControllerRevision{} }, func() *appsv1.ControllerRevisionList { return &appsv1.ControllerRevisionList{} })
}

type batchV1 struct{ c rest.Interface }

func (g batchV1) Jobs(ns string) ResourceInterface[*batchv1.Job, *batchv1.JobList] {
	return resource(g.c, "jobs", ns, func() *batchv1.Job { return &batchv1.Job{} }, func() *batchv1.JobList { return &batchv1.JobList{} })
}

type networkingV1 struct{ c rest.Interface }

func (g networkingV1) NetworkPolicies(ns string) ResourceInterface[*networkingv1.NetworkPolicy, *networkingv1.NetworkPolicyList] {
	return resource(g.c, "networkpolicies", ns, func() *networkingv1.NetworkPolicy { return &networkingv1.NetworkPolicy{} }, func() *networkingv1.NetworkPolicyList { return &networkingv1.NetworkPolicyList{} })
}

type discoveryV1 struct{ c rest.Interface }

func (g discoveryV1) EndpointSlices(ns string) ResourceInterface[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList] {
	return resource(g.c, "endpointslices", ns, func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} }, func() *discoveryv1.EndpointSliceList { return &discoveryv1.EndpointSliceList{} })
}

type coordinationV1 struct{ c rest.Interface }

func (g coordinationV1) Leases(ns string) ResourceInterface[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return resource(g.c, "leases", ns, func() *coordinationv1.Lease { return &coordinationv1.Lease{} }, func() *coordinationv1.LeaseList { return &coordinationv1.LeaseList{} })
}

type storageV1 struct{ c metadata.Interface }

func (g storageV1) StorageClasses() MetadataInterface { return g.c.Resource(StorageClasses) }
