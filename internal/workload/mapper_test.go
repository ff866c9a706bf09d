package workload

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readings answers each read of discovery with the next of its answers.
type readings struct {
	answers []reading
	reads   int
}

type reading struct {
	lists []*metav1.APIResourceList
	err   error
}

func (r *readings) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	a := r.answers[min(r.reads, len(r.answers)-1)]
	r.reads++
	if a.lists == nil {
		return nil, nil, a.err
	}
	var groups []*metav1.APIGroup
	for _, l := range a.lists {
		gv := metav1.GroupVersionForDiscovery{GroupVersion: l.GroupVersion, Version: "v1"}
		name := ""
		if l.GroupVersion != "v1" {
			name = l.GroupVersion[:len(l.GroupVersion)-len("/v1")]
		}
		groups = append(groups, &metav1.APIGroup{Name: name, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv})
	}
	return groups, a.lists, a.err
}

// Discovery is read at the first lookup and kept. A failed lookup reads it again once per
// Resolver (a CRD applied just before the gate), and again after a partial read (an aggregated
// API was down) or a read that failed altogether.
func TestResolverReadsDiscoveryAgainOnce(t *testing.T) {
	t.Parallel()
	core := &metav1.APIResourceList{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap"}}}
	widgets := &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget"},
		{Name: "widgets/status", Namespaced: true, Kind: "Widget"}}}
	down := errors.New("example.com/v1: the backend is down")
	served := reading{lists: []*metav1.APIResourceList{core, widgets}}
	tests := []struct {
		name      string
		answers   []reading
		wantErr   []bool // per lookup of a Widget
		wantReads int
	}{
		{"served: read once", []reading{served}, []bool{false, false}, 1},
		{"not served: read again once, not at every lookup",
			[]reading{{lists: []*metav1.APIResourceList{core}}}, []bool{true, true, true}, 2},
		{"served a moment late: the second read finds it",
			[]reading{{lists: []*metav1.APIResourceList{core}}, served}, []bool{false, false}, 2},
		{"partial: read again while partial",
			[]reading{{lists: []*metav1.APIResourceList{core}, err: down}, {lists: []*metav1.APIResourceList{core}, err: down}, served},
			[]bool{true, false}, 3},
		{"failed: the next lookup reads again", []reading{{err: down}, served}, []bool{true, false}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &readings{answers: tt.answers}
			r := NewResolver(d, nil, nil)
			for i, wantErr := range tt.wantErr {
				res, err := r.ForObject(context.Background(), "example.com/v1", "Widget")
				if (err != nil) != wantErr {
					t.Fatalf("lookup %d: %+v %v, want error %v", i, res, err, wantErr)
				}
				if err == nil && (res.Kind.Name() != "Widget" || res.Skip != "") {
					t.Errorf("lookup %d: %+v", i, res)
				}
			}
			if d.reads != tt.wantReads {
				t.Errorf("discovery read %d times, want %d", d.reads, tt.wantReads)
			}
		})
	}
	// kubectl's spellings that parse as resource.version.group first ("widgets.example.com")
	// resolve without reading discovery again.
	d := &readings{answers: []reading{served}}
	r := NewResolver(d, nil, nil)
	for _, arg := range []string{"widgets.example.com", "widget", "widgets.v1.example.com"} {
		if res, err := r.ForResource(context.Background(), arg); err != nil || res.Kind.Name() != "Widget" {
			t.Errorf("%s: %+v %v", arg, res, err)
		}
	}
	if d.reads != 1 {
		t.Errorf("discovery read %d times for types it serves, want 1", d.reads)
	}
	// A type the server does not serve stays a no-match error, which target reports as such.
	r = NewResolver(&readings{answers: []reading{{lists: []*metav1.APIResourceList{core}}}}, nil, nil)
	if _, err := r.ForObject(context.Background(), "example.com/v1", "Widget"); !meta.IsNoMatchError(err) {
		t.Errorf("unserved type: %v, want a no-match error", err)
	}
}
