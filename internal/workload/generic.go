package workload

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// genericKind is any kind other than the built-in rollouts, found through the API server's
// discovery (Resolver) and judged by its status alone, through the kstatus conventions: custom
// resources, PersistentVolumeClaims, bare Pods. It has no pods of its own to watch, no revisions
// and nothing to roll back. It reads through the dynamic client, which it carries: the typed
// client the Kind methods are handed knows none of these kinds.
type genericKind struct {
	gvk        schema.GroupVersionKind
	gvr        schema.GroupVersionResource
	namespaced bool
	// dyn reads with the API timeout; watchDyn has none, for long-lived watches.
	dyn, watchDyn dynamic.Interface
}

func (k *genericKind) Name() string                        { return k.gvk.Kind }
func (k *genericKind) GroupResource() schema.GroupResource { return k.gvr.GroupResource() }
func (k *genericKind) Namespaced() bool                    { return k.namespaced }
func (k *genericKind) APIVersion() string                  { return k.gvk.GroupVersion().String() }

// of takes an object of this kind.
func (k *genericKind) of(obj runtime.Object) (Workload, bool) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.GroupVersionKind().GroupKind() != k.gvk.GroupKind() {
		return nil, false
	}
	return resource{k, u}, true
}

func (k *genericKind) client(d dynamic.Interface, ns string) dynamic.ResourceInterface {
	if !k.namespaced {
		return d.Resource(k.gvr)
	}
	return d.Resource(k.gvr).Namespace(ns)
}

// Get reads one object through the dynamic client (c is not used: see genericKind).
func (k *genericKind) Get(ctx context.Context, _ client.Interface, ns, name string) (Workload, error) {
	u, err := k.client(k.dyn, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return resource{k, u}, nil
}

func (k *genericKind) List(ctx context.Context, _ client.Interface, ns string, opts metav1.ListOptions) ([]Workload, error) {
	list, err := k.client(k.dyn, ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Workload, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, resource{k, &list.Items[i]})
	}
	return out, nil
}

// Cache is one dynamic informer for the resource type in the namespace (the whole cluster for a
// cluster-scoped type), of its own: it reads unstructured objects through the dynamic watch
// client, not the namespace's typed informers, so the watch runs it (Informer.Run).
func (k *genericKind) Cache(_ client.Interface, _ *client.Informers, ns string) (Cached, error) {
	if !k.namespaced {
		ns = metav1.NamespaceAll
	}
	// dynamicinformer.NewFilteredDynamicInformer, whose package links client-go's typed informers.
	watched := k.client(k.watchDyn, ns)
	inf := cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return watched.List(ctx, o)
			},
			WatchFuncWithContext: watched.Watch,
		}, k.watchDyn),
		&unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{
			Indexers:          cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
			ObjectDescription: k.gvr.String(),
		})
	lister := cache.NewGenericLister(inf.GetIndexer(), k.gvr.GroupResource())
	if err := inf.SetTransform(dropManagedFields); err != nil {
		return Cached{}, fmt.Errorf("watch %s: %w", k.gvr.GroupResource(), err)
	}
	probe := metav1.ListOptions{Limit: 1}
	return Cached{
		Informers: []Informer{{Resource: k.gvr.GroupResource(), Informer: inf, Run: inf.Run,
			Probe: func(ctx context.Context) error {
				_, err := k.client(k.dyn, ns).List(ctx, probe)
				return err
			}}},
		Get: func(name string) (Workload, error) {
			var obj runtime.Object
			var err error
			if k.namespaced {
				obj, err = lister.ByNamespace(ns).Get(name)
			} else {
				obj, err = lister.Get(name)
			}
			if err != nil {
				return nil, err
			}
			if w, ok := k.of(obj); ok {
				return w, nil
			}
			return nil, fmt.Errorf("%s: unexpected object %T", k.gvr.GroupResource(), obj)
		},
	}, nil
}

func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// resource is one object of a genericKind.
type resource struct {
	kind *genericKind
	u    *unstructured.Unstructured
}

func (r resource) Kind() Kind             { return r.kind }
func (r resource) Object() runtime.Object { return r.u }
func (r resource) Meta() metav1.Object    { return r.u }

// Progress is its kstatus status and message: "InProgress: Ready=False (Provisioning) waiting for disk".
func (r resource) Progress() string {
	s := StatusOf(r)
	if s.Message == "" {
		return s.Status
	}
	return s.Status + ": " + s.Message
}

// Status is what the kstatus conventions read from an object's status, with the conditions that
// are its evidence.
type Status struct {
	// Status is kstatus's: InProgress, Current, Failed, Terminating or Unknown.
	Status  string
	Reason  string // the reason of the condition that decided, when one did
	Message string
	// Conditions are the object's own status.conditions, as written by its controller.
	Conditions []Condition
	// Generation and ObservedGeneration are metadata.generation and status.observedGeneration
	// (ObservedGeneration is -1 when the status has none).
	Generation, ObservedGeneration int64
	// Empty: the object has no status at all yet: its controller has not written one.
	Empty bool
	// Silent: the status has neither conditions nor observedGeneration, and kstatus has no rule
	// of its own for the kind: kstatus would call it Current whatever its state, so it says nothing.
	Silent bool
	// Custom: kstatus has no rule of its own for the kind (a custom resource): only a status that
	// says which generation it is about tells the applied spec from the one before.
	Custom bool
}

// Condition is one of an object's status.conditions.
type Condition struct {
	Type, Status, Reason, Message string
	// ObservedGeneration is the condition's own (metav1.Condition), 0 when it has none.
	ObservedGeneration int64
}

// kstatus statuses, as Status.Status holds them.
const (
	StatusCurrent     = string(status.CurrentStatus)
	StatusInProgress  = string(status.InProgressStatus)
	StatusFailed      = string(status.FailedStatus)
	StatusTerminating = string(status.TerminatingStatus)
	StatusUnknown     = string(status.UnknownStatus)
)

// StatusOf reads a workload's status through kstatus (sigs.k8s.io/cli-utils/pkg/kstatus). kstatus
// reads the clock for one rule (a Pod unschedulable for 15 seconds); everything else is pure.
func StatusOf(w Workload) Status {
	u, ok := w.Object().(*unstructured.Unstructured)
	if !ok {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(w.Object())
		if err != nil {
			return Status{Status: StatusUnknown, Message: err.Error()}
		}
		u = &unstructured.Unstructured{Object: m}
	}
	s := Status{Generation: u.GetGeneration(), ObservedGeneration: -1}
	st, found, _ := unstructured.NestedMap(u.Object, "status")
	s.Empty = !found || len(st) == 0
	if og, ok, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); ok {
		s.ObservedGeneration = og
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { v, _ := m[k].(string); return v }
		og, _, _ := unstructured.NestedInt64(m, "observedGeneration")
		s.Conditions = append(s.Conditions, Condition{Type: str("type"), Status: str("status"),
			Reason: str("reason"), Message: str("message"), ObservedGeneration: og})
	}
	sort.SliceStable(s.Conditions, func(i, j int) bool { return s.Conditions[i].Type < s.Conditions[j].Type })
	s.Custom = status.GetLegacyConditionsFn(u) == nil
	s.Silent = !s.Empty && len(s.Conditions) == 0 && s.ObservedGeneration < 0 && s.Custom
	if s.Silent {
		// A status of a phase or state alone says nothing kstatus reads; one that says failure is
		// a failure, not a skip.
		for _, field := range []string{"phase", "state"} {
			if v, _, _ := unstructured.NestedString(u.Object, "status", field); failedPhase.MatchString(v) {
				return Status{Status: StatusFailed, Reason: v, Message: fmt.Sprintf("its status.%s is %q", field, v),
					Generation: s.Generation, ObservedGeneration: -1, Custom: true}
			}
		}
	}
	res, err := status.Compute(u)
	if err != nil {
		s.Status, s.Message = StatusUnknown, err.Error()
		return s
	}
	s.Status, s.Message = string(res.Status), res.Message
	for _, c := range res.Conditions {
		if c.Status == corev1.ConditionTrue && c.Reason != "" {
			s.Reason = c.Reason
		}
	}
	// kstatus calls a bare Pod that ended in phase Failed Current ("completed, but not
	// successfully"): for a gate, a Pod that failed has failed.
	if u.GroupVersionKind().GroupKind() == (schema.GroupKind{Kind: "Pod"}) && s.Status == StatusCurrent {
		if phase, _, _ := unstructured.NestedString(u.Object, "status", "phase"); phase == string(corev1.PodFailed) {
			reason, _, _ := unstructured.NestedString(u.Object, "status", "reason")
			msg, _, _ := unstructured.NestedString(u.Object, "status", "message")
			if reason == "" {
				reason = "PodFailed"
			}
			if msg == "" {
				msg = "the pod ended in phase Failed"
			}
			s.Status, s.Reason, s.Message = StatusFailed, reason, msg
		}
	}
	return s
}

// failedPhase is a status.phase or status.state that says the object failed.
var failedPhase = regexp.MustCompile(`(?i)^(failed|failure|error|errored|degraded|crashloopbackoff)$`)

// Key identifies a kind across API groups: "Deployment.apps", "Certificate.cert-manager.io".
func Key(k Kind) string { return GroupKind(k).String() }
