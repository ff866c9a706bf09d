package workload

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Discovery is what the Resolver reads of the API server's discovery: client.Discovery in the
// gate, client-go's fake discovery in tests.
type Discovery interface {
	ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error)
}

// restMapper is what the gate used of client-go's restmapper package (a deferred discovery REST
// mapper behind a short-name expander over a memory cache), whose package links every API group:
// discovery is read at the first lookup and kept; a lookup that fails reads it again, once per
// Resolver (a CRD applied just before the gate may reach discovery a moment late), or after a
// read that missed some group versions.
type restMapper struct {
	discovery Discovery

	mu        sync.Mutex
	loaded    *discovered
	refreshed bool // discovery was read again after a failed lookup
}

// discovered is one read of discovery, and the mapper built from it.
type discovered struct {
	mapper    meta.RESTMapper
	resources map[string]*metav1.APIResourceList // by group version
	lists     []*metav1.APIResourceList          // in discovery's order, for short names
	partial   bool                               // some group versions could not be read
}

// get returns the last read, reading discovery if there is none, or, after a failed lookup on
// stale, if the stale read may be the cause.
func (m *restMapper) get(stale *discovered) (*discovered, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded != nil && m.loaded != stale {
		return m.loaded, nil // already read again, by another lookup
	}
	if stale != nil {
		if !stale.partial && m.refreshed {
			return stale, nil
		}
		m.refreshed = true
	}
	groups, lists, err := m.discovery.ServerGroupsAndResources()
	if groups == nil || lists == nil {
		if err == nil {
			err = fmt.Errorf("the API server listed no API groups")
		}
		return nil, fmt.Errorf("discover the API server's types: %w", err)
	}
	d := &discovered{resources: map[string]*metav1.APIResourceList{}, lists: lists, partial: err != nil}
	for _, l := range lists {
		d.resources[l.GroupVersion] = l
	}
	d.mapper = discoveryMapper(groups, d.resources)
	m.loaded = d
	return d, nil
}

// lookup runs f on the mapper, and once more after a fresh read if it failed.
func lookup[T any](m *restMapper, f func(*discovered) (T, error)) (T, error) {
	d, err := m.get(nil)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := f(d)
	if err != nil {
		if fresh, rerr := m.get(d); rerr == nil && fresh != d {
			return f(fresh)
		}
	}
	return out, err
}

// kindFor is the mapper's KindFor after short-name expansion ("pvc" is persistentvolumeclaims).
func (d *discovered) kindFor(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	return d.mapper.KindFor(d.expand(r))
}

// resourcesFor returns the resources, subresources included, of a group version.
func (m *restMapper) resourcesFor(gv schema.GroupVersion) (*metav1.APIResourceList, error) {
	d, err := m.get(nil)
	if err != nil {
		return nil, err
	}
	l, ok := d.resources[gv.String()]
	if !ok {
		return nil, fmt.Errorf("the API server does not serve %s", gv)
	}
	return l, nil
}

// discoveryMapper is restmapper.NewDiscoveryRESTMapper: one mapper per group version, the core
// group first, then each group's preferred version, its other versions, and the groups in
// discovery's order.
func discoveryMapper(groups []*metav1.APIGroup, resources map[string]*metav1.APIResourceList) meta.RESTMapper {
	var mappers meta.MultiRESTMapper
	resourcePriority := []schema.GroupVersionResource{{Version: "v1", Resource: meta.AnyResource}}
	kindPriority := []schema.GroupVersionKind{{Version: "v1", Kind: meta.AnyKind}}
	var groupNames []string
	for _, g := range groups {
		groupNames = append(groupNames, g.Name)
		preferred := g.PreferredVersion.Version
		if _, ok := resources[g.PreferredVersion.GroupVersion]; ok && preferred != "" {
			resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: g.Name, Version: preferred, Resource: meta.AnyResource})
			kindPriority = append(kindPriority, schema.GroupVersionKind{Group: g.Name, Version: preferred, Kind: meta.AnyKind})
		}
		for _, v := range g.Versions {
			list, ok := resources[v.GroupVersion]
			if !ok {
				continue
			}
			if v.Version != preferred {
				resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: g.Name, Version: v.Version, Resource: meta.AnyResource})
				kindPriority = append(kindPriority, schema.GroupVersionKind{Group: g.Name, Version: v.Version, Kind: meta.AnyKind})
			}
			gv := schema.GroupVersion{Group: g.Name, Version: v.Version}
			vm := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
			for _, r := range list.APIResources {
				if strings.Contains(r.Name, "/") {
					continue // a subresource
				}
				scope := meta.RESTScopeNamespace
				if !r.Namespaced {
					scope = meta.RESTScopeRoot
				}
				plural, singular := gv.WithResource(r.Name), gv.WithResource(r.SingularName)
				if r.SingularName == "" { // old servers do not list it
					_, singular = meta.UnsafeGuessKindToResource(gv.WithKind(r.Kind))
				}
				vm.AddSpecific(gv.WithKind(strings.ToLower(r.Kind)), plural, singular, scope)
				vm.AddSpecific(gv.WithKind(r.Kind), plural, singular, scope)
				vm.Add(gv.WithKind(r.Kind+"List"), scope)
			}
			vm.Add(gv.WithKind("List"), meta.RESTScopeRoot)
			mappers = append(mappers, vm)
		}
	}
	for _, g := range groupNames {
		resourcePriority = append(resourcePriority, schema.GroupVersionResource{Group: g, Version: meta.AnyVersion, Resource: meta.AnyResource})
		kindPriority = append(kindPriority, schema.GroupVersionKind{Group: g, Version: meta.AnyVersion, Kind: meta.AnyKind})
	}
	return meta.PriorityRESTMapper{Delegate: mappers, ResourcePriority: resourcePriority, KindPriority: kindPriority}
}

// expand is restmapper's short-name expansion: a resource's name or singular name stays as it
// is; else a short name becomes its resource (the first, in discovery's order, of the group
// if one is given; else of a group the given one is a prefix of).
func (d *discovered) expand(r schema.GroupVersionResource) schema.GroupVersionResource {
	type shortcut struct{ short, long schema.GroupResource }
	var shortcuts []shortcut
	for _, l := range d.lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if r.Group == "" || r.Group == gv.Group {
				if r.Resource == res.Name || r.Resource == res.SingularName {
					return r
				}
			}
			for _, s := range res.ShortNames {
				shortcuts = append(shortcuts, shortcut{schema.GroupResource{Group: gv.Group, Resource: s}, schema.GroupResource{Group: gv.Group, Resource: res.Name}})
			}
		}
	}
	for _, s := range shortcuts {
		if (r.Group == "" || r.Group == s.short.Group) && r.Resource == s.short.Resource {
			return schema.GroupVersionResource{Group: s.long.Group, Resource: s.long.Resource}
		}
	}
	if r.Group == "" {
		return r
	}
	for _, s := range shortcuts {
		if strings.HasPrefix(s.short.Group, r.Group) && r.Resource == s.short.Resource {
			r.Group, r.Resource = s.long.Group, s.long.Resource
			return r
		}
	}
	return r
}
