package target

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// fakeResolver answers from a table of types; any other is not served.
type fakeResolver map[string]workload.Resolution

func (f fakeResolver) ForObject(_ context.Context, apiVersion, kind string) (workload.Resolution, error) {
	return f.lookup(apiVersion + " " + kind)
}

func (f fakeResolver) ForResource(_ context.Context, arg string) (workload.Resolution, error) {
	return f.lookup(arg)
}

func (f fakeResolver) lookup(key string) (workload.Resolution, error) {
	if r, ok := f[key]; ok {
		return r, nil
	}
	if key == "forbidden" {
		return workload.Resolution{}, errors.New("discovery failed")
	}
	return workload.Resolution{}, &meta.NoKindMatchError{GroupKind: schema.GroupKind{Kind: key}}
}

// stubKind is a Kind found through discovery, for Resolve's bookkeeping.
type stubKind struct {
	workload.Kind
	name       string
	namespaced bool
}

func (k stubKind) Name() string     { return k.name }
func (k stubKind) StatusOnly() bool { return true }
func (k stubKind) Namespaced() bool { return k.namespaced }
func (k stubKind) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: "example.com", Resource: strings.ToLower(k.name) + "s"}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	widget := stubKind{name: "Widget", namespaced: true}
	r := fakeResolver{
		"example.com/v1 Widget":  {Kind: widget, APIVersion: "example.com/v1"},
		"widgets.example.com":    {Kind: widget, APIVersion: "example.com/v1"},
		"example.com/v1 Cluster": {Kind: stubKind{name: "Cluster"}, APIVersion: "example.com/v1"},
		"v1 ConfigMap":           {Kind: stubKind{name: "ConfigMap", namespaced: true}, APIVersion: "v1", Skip: "ConfigMap has no status to judge"},
	}
	tests := []struct {
		name    string
		in      Target
		want    string // kind apiVersion namespace skipped why
		err     string
		code    int
		noResol bool
	}{
		{name: "rollout kinds are left alone", in: Target{Kind: Deployment, APIVersion: "apps/v1", Namespace: "prod", Name: "api"},
			want: "Deployment apps/v1 prod false "},
		{name: "a custom resource from a manifest is judged", in: Target{Kind: "Widget", APIVersion: "example.com/v1", Namespace: "prod", Name: "w", Skipped: true},
			want: "Widget example.com/v1 prod false "},
		{name: "a --workload type is resolved", in: Target{Kind: "widgets.example.com", Namespace: "prod", Name: "w"},
			want: "Widget example.com/v1 prod false "},
		{name: "a cluster-scoped kind has no namespace", in: Target{Kind: "Cluster", APIVersion: "example.com/v1", Namespace: "prod", Name: "c", Skipped: true},
			want: "Cluster example.com/v1  false "},
		{name: "a ConfigMap is skipped with the reason", in: Target{Kind: "ConfigMap", APIVersion: "v1", Namespace: "prod", Name: "cfg", Skipped: true},
			want: "ConfigMap v1 prod true ConfigMap has no status to judge"},
		{name: "a CRD not installed is invalid input", in: Target{Kind: "Gadget", APIVersion: "nothere.example.com/v1", Namespace: "prod", Name: "g", File: "app.yaml", Line: 7, Skipped: true},
			err: "app.yaml:7): the API server does not serve kind Gadget in apiVersion nothere.example.com/v1; is its CustomResourceDefinition installed", code: fault.ExitInvalid},
		{name: "an unknown --workload type is invalid input", in: Target{Kind: "gizmos", Namespace: "prod", Name: "g"},
			err: `the API server serves no type "gizmos"`, code: fault.ExitInvalid},
		{name: "a discovery failure is not invalid input", in: Target{Kind: "forbidden", Namespace: "prod", Name: "g"},
			err: "discovery failed", code: fault.ExitFailed},
		{name: "without a resolver, other kinds stay skipped", noResol: true,
			in:   Target{Kind: "Widget", APIVersion: "example.com/v1", Namespace: "prod", Name: "w", Skipped: true},
			want: "Widget example.com/v1 prod true the gate judges Deployments, StatefulSets, DaemonSets and Jobs only"},
		{name: "without a resolver, an unknown --workload kind is invalid", noResol: true,
			in: Target{Kind: "widgets.example.com", Namespace: "prod", Name: "w"}, err: "unknown kind", code: fault.ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var res Resolver = r
			if tt.noResol {
				res = nil
			}
			out, err := Resolve(context.Background(), res, []Target{tt.in})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || fault.Code(err) != tt.code {
					t.Fatalf("err = %v (exit %d), want exit %d containing %q", err, fault.Code(err), tt.code, tt.err)
				}
				return
			}
			if err != nil || len(out) != 1 {
				t.Fatalf("got %v, %v", out, err)
			}
			w := out[0]
			if got := strings.Join([]string{w.Kind, w.APIVersion, w.Namespace, map[bool]string{true: "true", false: "false"}[w.Skipped], w.Why}, " "); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if k, ok := w.KindOf(); !w.Skipped && (!ok || k.Name() != w.Kind) {
				t.Errorf("KindOf: %v %v", k, ok)
			}
		})
	}
}

// Two kinds of the same name in different groups are different workloads.
func TestKeyTellsGroupsApart(t *testing.T) {
	t.Parallel()
	a := Target{Kind: "Deployment", Namespace: "prod", Name: "api"}
	b := Target{Kind: "Deployment", Namespace: "prod", Name: "api", Resolved: stubKind{name: "Deployment", namespaced: true}}
	if a.Key() == b.Key() {
		t.Errorf("both are %s", a.Key())
	}
}
