package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"
	"sync"

	apidiscovery "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Discovery reads which groups, versions and resources the API server serves: its aggregated
// discovery documents (GET /api and /apis, two requests), or on a server without them the legacy
// lists (/api, /apis, then one request per group version). client-go's discovery client does the
// same but imports its scheme package (see the package doc).
type Discovery struct {
	rest rest.Interface
}

// acceptDiscovery asks for aggregated discovery first, the legacy lists otherwise.
const acceptDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

// discoveryBurst is client-go's discovery burst: discovery of a large cluster's groups is bursty.
const discoveryBurst = 300

// NewDiscovery builds a Discovery over c, with client-go's discovery defaults.
func NewDiscovery(c *rest.Config) (*Discovery, error) {
	cfg := *c
	cfg.APIPath, cfg.GroupVersion = "", nil
	if cfg.Burst == 0 {
		cfg.Burst = discoveryBurst
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	cfg.NegotiatedSerializer = Codecs.WithoutConversion()
	h, err := rest.HTTPClientFor(&cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(&cfg, h)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Discovery{rest: rc}, nil
}

// ServerGroupsAndResources returns the served groups, core first, and the resources of each of
// their versions, subresources as "pods/status". As client-go's, it returns what it could read
// along with the error of a group version it could not (a stale aggregated API, say).
func (d *Discovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	ctx := context.Background()
	var groups []*metav1.APIGroup
	var resources []*metav1.APIResourceList
	var errs []error
	for _, path := range []string{"/api", "/apis"} {
		g, r, err := d.read(ctx, path)
		if err != nil && g == nil {
			if path == "/apis" && apierrors.IsNotFound(err) {
				continue // a server without API groups
			}
			return nil, nil, fmt.Errorf("discover %s: %w", path, err)
		}
		groups, resources = append(groups, g...), append(resources, r...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return groups, resources, errors.Join(errs...)
}

// read reads one discovery root, aggregated when the server answers so.
func (d *Discovery) read(ctx context.Context, path string) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	var contentType string
	body, err := d.rest.Get().AbsPath(path).SetHeader("Accept", acceptDiscovery).Do(ctx).ContentType(&contentType).Raw()
	if err != nil {
		return nil, nil, err
	}
	if isAggregated(contentType) {
		var list apidiscovery.APIGroupDiscoveryList
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", path, err)
		}
		return splitAggregated(list)
	}
	var groups []metav1.APIGroup
	if path == "/api" {
		var versions metav1.APIVersions
		if err := json.Unmarshal(body, &versions); err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", path, err)
		}
		core := metav1.APIGroup{}
		for _, v := range versions.Versions {
			core.Versions = append(core.Versions, metav1.GroupVersionForDiscovery{GroupVersion: v, Version: v})
		}
		if len(core.Versions) > 0 {
			core.PreferredVersion = core.Versions[0]
		}
		groups = []metav1.APIGroup{core}
	} else {
		var list metav1.APIGroupList
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", path, err)
		}
		groups = list.Groups
	}
	return d.readLegacy(ctx, path, groups)
}

// readLegacy reads the resources of each group version, all at once, as client-go does.
func (d *Discovery) readLegacy(ctx context.Context, root string, groups []metav1.APIGroup) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	type result struct {
		list *metav1.APIResourceList
		err  error
	}
	var gvs []string
	out := make([]*metav1.APIGroup, 0, len(groups))
	for i := range groups {
		out = append(out, &groups[i])
		for _, v := range groups[i].Versions {
			gvs = append(gvs, v.GroupVersion)
		}
	}
	results := make([]result, len(gvs))
	var wg sync.WaitGroup
	for i, gv := range gvs {
		wg.Go(func() {
			list := &metav1.APIResourceList{}
			body, err := d.rest.Get().AbsPath(root, gv).SetHeader("Accept", "application/json").Do(ctx).Raw()
			if err == nil {
				err = json.Unmarshal(body, list)
			}
			if err != nil {
				results[i].err = fmt.Errorf("discover %s: %w", gv, err)
				return
			}
			list.GroupVersion = gv
			results[i].list = list
		})
	}
	wg.Wait()
	var lists []*metav1.APIResourceList
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		lists = append(lists, r.list)
	}
	return out, lists, errors.Join(errs...)
}

// isAggregated says whether a response is an aggregated discovery document (its parameters in
// any order, with others a proxy may add).
func isAggregated(contentType string) bool {
	media, params, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/json" &&
		params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" && params["as"] == "APIGroupDiscoveryList"
}

// splitAggregated turns an aggregated document into groups and resource lists, as client-go's
// discovery.SplitGroupsAndResources does: a stale group version is an error, its resources are
// left out, and a subresource becomes a resource named "parent/sub".
func splitAggregated(list apidiscovery.APIGroupDiscoveryList) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	var groups []*metav1.APIGroup
	var lists []*metav1.APIResourceList
	var stale []string
	for _, g := range list.Items {
		group := &metav1.APIGroup{Name: g.Name}
		for _, v := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: v.Version}
			if v.Freshness == apidiscovery.DiscoveryFreshnessStale {
				stale = append(stale, gv.String())
				continue
			}
			version := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: v.Version}
			group.Versions = append(group.Versions, version)
			if group.PreferredVersion == (metav1.GroupVersionForDiscovery{}) {
				group.PreferredVersion = version
			}
			rl := &metav1.APIResourceList{GroupVersion: gv.String()}
			for _, r := range v.Resources {
				res := metav1.APIResource{Name: r.Resource, SingularName: r.SingularResource,
					Namespaced: r.Scope == apidiscovery.ScopeNamespace, Verbs: r.Verbs,
					ShortNames: r.ShortNames, Categories: r.Categories}
				hasKind := r.ResponseKind != nil && *r.ResponseKind != (metav1.GroupVersionKind{})
				if hasKind {
					res.Group, res.Version, res.Kind = r.ResponseKind.Group, r.ResponseKind.Version, r.ResponseKind.Kind
					rl.APIResources = append(rl.APIResources, res)
				}
				for _, sub := range r.Subresources {
					if sub.ResponseKind == nil || *sub.ResponseKind == (metav1.GroupVersionKind{}) {
						continue
					}
					rl.APIResources = append(rl.APIResources, metav1.APIResource{
						Name: res.Name + "/" + sub.Subresource, SingularName: res.SingularName, Namespaced: res.Namespaced,
						Group: sub.ResponseKind.Group, Version: sub.ResponseKind.Version, Kind: sub.ResponseKind.Kind,
						Verbs: sub.Verbs})
				}
			}
			lists = append(lists, rl)
		}
		groups = append(groups, group)
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		return groups, lists, fmt.Errorf("stale discovery of %s", strings.Join(stale, ", "))
	}
	return groups, lists, nil
}
