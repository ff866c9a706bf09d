package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// Each typed call goes to the path client-go's clientset sends it to, asking for protobuf as
// client-go's generated clients do.
func TestClientsetRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Accept"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/log") {
			_, _ = w.Write([]byte("line\n"))
			return
		}
		if strings.Contains(r.URL.Path, "/storageclasses") {
			// As the API server answers a metadata request: PartialObjectMetadata.
			if strings.HasSuffix(r.URL.Path, "/storageclasses") {
				_, _ = w.Write([]byte(`{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadataList","items":[]}`))
				return
			}
			_, _ = w.Write([]byte(`{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"fast","uid":"u1","resourceVersion":"1","creationTimestamp":"2026-01-01T00:00:00Z"}}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := client.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var _ client.Interface = c
	ctx := context.Background()
	const proto = "application/vnd.kubernetes.protobuf,application/json"
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"pods", func() error {
			_, err := c.CoreV1().Pods("prod").List(ctx, metav1.ListOptions{LabelSelector: "app=api", Limit: 1})
			return err
		}, "GET /api/v1/namespaces/prod/pods?labelSelector=app%3Dapi&limit=1 " + proto},
		{"logs", func() error {
			_, err := c.CoreV1().Pods("prod").GetLogs("api-1", &corev1.PodLogOptions{Container: "app", TailLines: ptr.To[int64](5)}).DoRaw(ctx)
			return err
		}, "GET /api/v1/namespaces/prod/pods/api-1/log?container=app&tailLines=5 application/json, */*"},
		{"nodes", func() error { _, err := c.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); return err },
			"GET /api/v1/nodes/n1 " + proto},
		{"deployment patch", func() error {
			_, err := c.AppsV1().Deployments("prod").Patch(ctx, "api", "application/strategic-merge-patch+json", []byte(`{}`), metav1.PatchOptions{DryRun: []string{"All"}})
			return err
		}, "PATCH /apis/apps/v1/namespaces/prod/deployments/api?dryRun=All " + proto},
		{"jobs", func() error { _, err := c.BatchV1().Jobs("prod").Get(ctx, "migrate", metav1.GetOptions{}); return err },
			"GET /apis/batch/v1/namespaces/prod/jobs/migrate " + proto},
		{"network policies", func() error {
			_, err := c.NetworkingV1().NetworkPolicies("prod").List(ctx, metav1.ListOptions{})
			return err
		}, "GET /apis/networking.k8s.io/v1/namespaces/prod/networkpolicies " + proto},
		{"endpoint slices", func() error {
			_, err := c.DiscoveryV1().EndpointSlices("prod").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=db"})
			return err
		}, "GET /apis/discovery.k8s.io/v1/namespaces/prod/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Ddb " + proto},
		{"claims", func() error {
			_, err := c.CoreV1().PersistentVolumeClaims("prod").Get(ctx, "data", metav1.GetOptions{})
			return err
		}, "GET /api/v1/namespaces/prod/persistentvolumeclaims/data " + proto},
		// StorageClasses by their metadata alone: no storage.k8s.io types in the binary.
		{"storage class", func() error {
			sc, err := c.StorageV1().StorageClasses().Get(ctx, "fast", metav1.GetOptions{})
			if err == nil && sc.Name != "fast" {
				err = fmt.Errorf("read %q", sc.Name)
			}
			return err
		}, "GET /apis/storage.k8s.io/v1/storageclasses/fast application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"},
		{"storage classes", func() error {
			_, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{Limit: 500})
			return err
		}, "GET /apis/storage.k8s.io/v1/storageclasses?limit=500 application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"},
	}
	for _, tc := range tests {
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		mu.Lock()
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: requests %q, want %q", tc.name, got, tc.want)
		}
		mu.Unlock()
	}
}

// The informers make one informer per resource, and their list and watch carry the tweak.
func TestInformers(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	var mu sync.Mutex
	var selectors []string
	cs.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		selectors = append(selectors, a.(k8stesting.ListAction).GetListRestrictions().Fields.String())
		mu.Unlock()
		return true, &corev1.EventList{}, nil
	})
	f := client.NewInformers(kubetest.Wrap(cs), "prod",
		client.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "type=Warning" }))
	events := func() cache.SharedIndexInformer {
		return f.For(corev1.Resource("events"), &corev1.Event{}, client.ListWatchOf(kubetest.Wrap(cs).CoreV1().Events("prod")))
	}
	a := events()
	if b := events(); a != b {
		t.Error("two informers for events in one namespace")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	<-a.HasSyncedChecker().Done()
	mu.Lock()
	defer mu.Unlock()
	if len(selectors) == 0 || selectors[0] != "type=Warning" {
		t.Errorf("list field selectors %q, want type=Warning", selectors)
	}
}

// discoveryServer serves /api and /apis as a server with aggregated discovery does, or, when
// legacy, as one without it does.
func discoveryServer(t *testing.T, legacy bool) *httptest.Server {
	t.Helper()
	const agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	aggregated := map[string]string{
		"/api": `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[{"metadata":{},"versions":[{"version":"v1","resources":[
			{"resource":"persistentvolumeclaims","singularResource":"persistentvolumeclaim","shortNames":["pvc"],"scope":"Namespaced","responseKind":{"group":"","version":"v1","kind":"PersistentVolumeClaim"},"verbs":["get","list"],
			 "subresources":[{"subresource":"status","responseKind":{"group":"","version":"v1","kind":"PersistentVolumeClaim"},"verbs":["get"]}]}]}]}]}`,
		"/apis": `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[{"metadata":{"name":"example.com"},"versions":[
			{"version":"v2","freshness":"Stale","resources":[]},
			{"version":"v1","resources":[{"resource":"widgets","singularResource":"widget","scope":"Cluster","responseKind":{"group":"example.com","version":"v1","kind":"Widget"},"verbs":["get"]}]}]}]}`,
	}
	plain := map[string]string{
		"/api":                 `{"kind":"APIVersions","versions":["v1"]}`,
		"/apis":                `{"kind":"APIGroupList","groups":[{"name":"example.com","versions":[{"groupVersion":"example.com/v2","version":"v2"},{"groupVersion":"example.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"example.com/v2","version":"v2"}}]}`,
		"/api/v1":              `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"persistentvolumeclaims","singularName":"persistentvolumeclaim","shortNames":["pvc"],"namespaced":true,"kind":"PersistentVolumeClaim","verbs":["get","list"]},{"name":"persistentvolumeclaims/status","singularName":"","namespaced":true,"kind":"PersistentVolumeClaim","verbs":["get"]}]}`,
		"/apis/example.com/v1": `{"kind":"APIResourceList","groupVersion":"example.com/v1","resources":[{"name":"widgets","singularName":"widget","namespaced":false,"kind":"Widget","verbs":["get"]}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, ok := aggregated[r.URL.Path]; ok && !legacy && strings.Contains(r.Header.Get("Accept"), "as=APIGroupDiscoveryList") {
			w.Header().Set("Content-Type", agg)
			_, _ = w.Write([]byte(body))
			return
		}
		body, ok := plain[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"the backend is down"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Aggregated and legacy discovery read the same: the core group first, subresources as
// "parent/sub", scope and short names; a group version that cannot be read (stale, or failing)
// is left out with an error beside what was read.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		d, err := client.NewDiscovery(&rest.Config{Host: discoveryServer(t, legacy).URL})
		if err != nil {
			t.Fatal(err)
		}
		groups, lists, err := d.ServerGroupsAndResources()
		if err == nil || !strings.Contains(err.Error(), "example.com/v2") {
			t.Errorf("legacy=%v: error %v, want one naming example.com/v2", legacy, err)
		}
		var names []string
		for _, g := range groups {
			names = append(names, g.Name+"@"+g.PreferredVersion.Version)
		}
		var resources []string
		for _, l := range lists {
			for _, r := range l.APIResources {
				resources = append(resources, l.GroupVersion+" "+r.Name+" "+r.Kind+" "+strings.Join(r.ShortNames, ",")+" "+map[bool]string{true: "namespaced", false: "cluster"}[r.Namespaced])
			}
		}
		wantGroups := "@v1 example.com@v1"
		if legacy {
			wantGroups = "@v1 example.com@v2" // a legacy server names its preferred version itself
		}
		if got := strings.Join(names, " "); got != wantGroups {
			t.Errorf("legacy=%v: groups %q, want %q", legacy, got, wantGroups)
		}
		want := []string{
			"v1 persistentvolumeclaims PersistentVolumeClaim pvc namespaced",
			"v1 persistentvolumeclaims/status PersistentVolumeClaim  namespaced",
			"example.com/v1 widgets Widget  cluster",
		}
		if g, _ := json.Marshal(resources); string(g) != mustJSON(want) {
			t.Errorf("legacy=%v: resources\n%s\nwant\n%s", legacy, g, mustJSON(want))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
