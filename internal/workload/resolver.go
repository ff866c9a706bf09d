package workload

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Resolver finds the Kind of any type the user names: the rollout kinds by the one switch
// (Lookup), every other kind through the API server's discovery (a REST mapper over discovery
// read at the first lookup, see restMapper).
type Resolver struct {
	mapper *restMapper
	// dyn reads with the API timeout; watchDyn, without one, serves the watches.
	dyn, watchDyn dynamic.Interface

	mu    sync.Mutex
	kinds map[schema.GroupVersionResource]*genericKind
}

// NewResolver builds a Resolver over the API server's discovery and two dynamic clients (one for
// reads, with a timeout, one for watches, without).
func NewResolver(d Discovery, dyn, watchDyn dynamic.Interface) *Resolver {
	return &Resolver{
		mapper: &restMapper{discovery: d}, dyn: dyn, watchDyn: watchDyn,
		kinds: map[schema.GroupVersionResource]*genericKind{},
	}
}

// Resolution is what the Resolver found for a type: its Kind, and, when the gate does not judge
// it, why (Skip), in words for the report.
type Resolution struct {
	Kind Kind
	// APIVersion is the group/version the gate reads it at ("cert-manager.io/v1", "v1").
	APIVersion string
	Skip       string
}

// ForObject resolves a manifest's apiVersion and kind. A type the API server does not serve is
// an error for which meta.IsNoMatchError holds.
func (r *Resolver) ForObject(ctx context.Context, apiVersion, kind string) (Resolution, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return Resolution{}, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	if k, ok := Lookup(kind); ok && k.Name() == kind && k.GroupResource().Group == gv.Group {
		return Resolution{Kind: k, APIVersion: k.GroupResource().Group + "/v1"}, nil
	}
	m, err := lookup(r.mapper, func(d *discovered) (*meta.RESTMapping, error) {
		return d.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	})
	if err != nil {
		return Resolution{}, err
	}
	return r.resolve(ctx, m)
}

// ForResource resolves a type as kubectl takes it on the command line: "pvc", "pods",
// "certificates.cert-manager.io", "certificate.v1.cert-manager.io".
func (r *Resolver) ForResource(ctx context.Context, arg string) (Resolution, error) {
	if k, ok := Lookup(arg); ok {
		return Resolution{Kind: k, APIVersion: k.GroupResource().Group + "/v1"}, nil
	}
	full, gr := schema.ParseResourceArg(strings.ToLower(arg))
	var gvk schema.GroupVersionKind
	m, err := lookup(r.mapper, func(d *discovered) (*meta.RESTMapping, error) {
		var err error
		if full != nil {
			gvk, err = d.kindFor(*full)
		}
		if full == nil || err != nil {
			gvk, err = d.kindFor(gr.WithVersion(""))
		}
		if err != nil {
			return nil, err
		}
		return d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	})
	if err != nil {
		return Resolution{}, err
	}
	if k, ok := Lookup(gvk.Kind); ok && k.GroupResource().Group == gvk.Group {
		return Resolution{Kind: k, APIVersion: gvk.GroupVersion().String()}, nil
	}
	return r.resolve(ctx, m)
}

// noRollout are the kinds whose status kstatus reads but which have nothing a deploy waits for.
var noRollout = map[schema.GroupKind]string{
	{Kind: "Service"}:                                  "a Service's status is its load balancer's: it has no rollout to judge",
	{Kind: "Namespace"}:                                "a Namespace has no rollout to judge",
	{Group: "batch", Kind: "CronJob"}:                  "a CronJob only starts Jobs later: the gate judges a Job named with -f or --workload",
	{Kind: "Endpoints"}:                                "Endpoints have no status to judge",
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}: "EndpointSlices have no status to judge",
}

// resolve turns a REST mapping into a generic Kind, or a reason to skip it: a kind without a
// status subresource has no controller that reports on it (ConfigMaps, Secrets, RBAC objects).
func (r *Resolver) resolve(_ context.Context, m *meta.RESTMapping) (Resolution, error) {
	res := Resolution{APIVersion: m.GroupVersionKind.GroupVersion().String()}
	k := r.kind(m)
	if m.GroupVersionKind.GroupKind() == ArgoRolloutGroupKind {
		// Judged by its pods and its phase, not by kstatus, which cannot read its status.
		res.Kind = &argoKind{res: k}
		return res, nil
	}
	res.Kind = k
	if why, ok := noRollout[m.GroupVersionKind.GroupKind()]; ok {
		res.Skip = why
		return res, nil
	}
	has, err := r.hasStatus(m.Resource)
	if err != nil {
		return Resolution{}, err
	}
	if !has {
		res.Skip = fmt.Sprintf("%s has no status to judge", m.GroupVersionKind.Kind)
	}
	return res, nil
}

func (r *Resolver) kind(m *meta.RESTMapping) *genericKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.kinds[m.Resource]; ok {
		return k
	}
	k := &genericKind{gvk: m.GroupVersionKind, gvr: m.Resource,
		namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace, dyn: r.dyn, watchDyn: r.watchDyn}
	r.kinds[m.Resource] = k
	return k
}

// hasStatus says whether discovery lists a status subresource for the resource.
func (r *Resolver) hasStatus(gvr schema.GroupVersionResource) (bool, error) {
	list, err := r.mapper.resourcesFor(gvr.GroupVersion())
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", gvr.GroupVersion(), err)
	}
	for _, ar := range list.APIResources {
		if ar.Name == gvr.Resource+"/status" {
			return true, nil
		}
	}
	return false, nil
}
