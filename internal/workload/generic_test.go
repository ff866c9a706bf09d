package workload

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// widget is a custom resource from YAML.
func widget(t *testing.T, doc string) Workload {
	t.Helper()
	// As the dynamic client decodes it: whole numbers are int64.
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	k := &genericKind{gvk: u.GroupVersionKind(), gvr: schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}, namespaced: true}
	w, ok := k.of(u)
	if !ok {
		t.Fatalf("not a widget: %s", doc)
	}
	return w
}

const widgetHead = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: prod, generation: 2}\n"

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status string
		want   string
		reason string
		empty  bool
		silent bool
		conds  int
		og     int64
	}{
		{name: "no status", want: StatusCurrent, empty: true, og: -1},
		{name: "ready for this generation", want: StatusCurrent, conds: 1, og: 2,
			status: "status: {observedGeneration: 2, conditions: [{type: Ready, status: 'True', reason: Reconciled}]}"},
		{name: "an older generation observed", want: StatusInProgress, reason: "LatestGenerationNotObserved", conds: 1, og: 1,
			status: "status: {observedGeneration: 1, conditions: [{type: Ready, status: 'True'}]}"},
		{name: "stalled", want: StatusFailed, reason: "QuotaExceeded", conds: 2, og: 2,
			status: "status: {observedGeneration: 2, conditions: [{type: Stalled, status: 'True', reason: QuotaExceeded, message: over}, {type: Ready, status: 'False'}]}"},
		{name: "ready false", want: StatusInProgress, reason: "Provisioning", conds: 1, og: -1,
			status: "status: {conditions: [{type: Ready, status: 'False', reason: Provisioning}]}"},
		{name: "a phase only says nothing kstatus can use", want: StatusCurrent, silent: true, og: -1,
			status: "status: {phase: Running}"},
		// Issue 20: a status that says failure in its phase alone is a failure, not a skip.
		{name: "phase Failed without conditions is a failure", want: StatusFailed, reason: "Failed", og: -1,
			status: "status: {phase: Failed}"},
		{name: "state Degraded without conditions is a failure", want: StatusFailed, reason: "Degraded", og: -1,
			status: "status: {state: Degraded}"},
		{name: "phase Error without conditions is a failure", want: StatusFailed, reason: "Error", og: -1,
			status: "status: {phase: Error}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := StatusOf(widget(t, widgetHead+tt.status))
			if s.Status != tt.want || s.Reason != tt.reason || s.Empty != tt.empty || s.Silent != tt.silent ||
				len(s.Conditions) != tt.conds || s.ObservedGeneration != tt.og || s.Generation != 2 {
				t.Errorf("got %+v", s)
			}
		})
	}
}

// A PVC has kstatus's own rule (Bound): never Silent, even without conditions.
func TestStatusOfTypedObject(t *testing.T) {
	t.Parallel()
	pvc := &corev1.PersistentVolumeClaim{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: "data"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pvc)
	if err != nil {
		t.Fatal(err)
	}
	k := &genericKind{gvk: corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"), gvr: corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"), namespaced: true}
	w, _ := k.of(&unstructured.Unstructured{Object: m})
	if s := StatusOf(w); s.Status != StatusInProgress || s.Silent {
		t.Errorf("pending PVC: %+v", s)
	}
	// A bare Pod that failed has failed, though kstatus calls it Current ("completed").
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "once"},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "low on memory"}}
	m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
	if err != nil {
		t.Fatal(err)
	}
	k = &genericKind{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), gvr: corev1.SchemeGroupVersion.WithResource("pods"), namespaced: true}
	w, _ = k.of(&unstructured.Unstructured{Object: m})
	if s := StatusOf(w); s.Status != StatusFailed || s.Reason != "Evicted" || s.Message != "low on memory" {
		t.Errorf("failed Pod: %+v", s)
	}
}

func testResolver() *Resolver {
	d := kubetest.Discovery(
		&metav1.APIResourceList{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap", Verbs: []string{"get", "list", "watch"}},
			{Name: "services", SingularName: "service", Namespaced: true, Kind: "Service", Verbs: []string{"get", "list", "watch"}},
			{Name: "services/status", Namespaced: true, Kind: "Service"},
			{Name: "persistentvolumeclaims", SingularName: "persistentvolumeclaim", ShortNames: []string{"pvc"}, Namespaced: true, Kind: "PersistentVolumeClaim", Verbs: []string{"get", "list", "watch"}},
			{Name: "persistentvolumeclaims/status", Namespaced: true, Kind: "PersistentVolumeClaim"},
		}},
		&metav1.APIResourceList{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", Verbs: []string{"get", "list", "watch"}},
		}},
		&metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Verbs: []string{"get", "list", "watch"}},
			{Name: "widgets/status", Namespaced: true, Kind: "Widget"},
			{Name: "clusterwidgets", SingularName: "clusterwidget", Namespaced: false, Kind: "ClusterWidget", Verbs: []string{"get", "list", "watch"}},
			{Name: "clusterwidgets/status", Kind: "ClusterWidget"},
		}},
		&metav1.APIResourceList{GroupVersion: "argoproj.io/v1alpha1", APIResources: []metav1.APIResource{
			{Name: "rollouts", SingularName: "rollout", ShortNames: []string{"ro"}, Namespaced: true, Kind: "Rollout", Verbs: []string{"get", "list", "watch"}},
			{Name: "rollouts/status", Namespaced: true, Kind: "Rollout"},
		}},
	)
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	return NewResolver(d, dyn, dyn)
}

func TestResolver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		apiVersion, kindOrArg string
		wantKind, wantAPI     string
		statusOnly            bool
		namespaced            bool
		skip                  string
		noMatch               bool
	}{
		{name: "a custom resource", apiVersion: "example.com/v1", kindOrArg: "Widget", wantKind: "Widget", wantAPI: "example.com/v1", statusOnly: true, namespaced: true},
		{name: "a cluster-scoped custom resource", apiVersion: "example.com/v1", kindOrArg: "ClusterWidget", wantKind: "ClusterWidget", wantAPI: "example.com/v1", statusOnly: true},
		{name: "a rollout kind stays on its own path", apiVersion: "apps/v1", kindOrArg: "Deployment", wantKind: "Deployment", wantAPI: "apps/v1", namespaced: true},
		{name: "a ConfigMap has no status", apiVersion: "v1", kindOrArg: "ConfigMap", wantKind: "ConfigMap", wantAPI: "v1", statusOnly: true, namespaced: true,
			skip: "ConfigMap has no status to judge"},
		{name: "a Service has no rollout", apiVersion: "v1", kindOrArg: "Service", wantKind: "Service", wantAPI: "v1", statusOnly: true, namespaced: true,
			skip: "a Service's status is its load balancer's: it has no rollout to judge"},
		{name: "a PVC is judged", apiVersion: "v1", kindOrArg: "PersistentVolumeClaim", wantKind: "PersistentVolumeClaim", wantAPI: "v1", statusOnly: true, namespaced: true},
		{name: "a CRD not installed", apiVersion: "nothere.example.com/v1", kindOrArg: "Gadget", noMatch: true},
		{name: "a version not served", apiVersion: "example.com/v9", kindOrArg: "Widget", noMatch: true},
		{name: "resource.group", kindOrArg: "widgets.example.com", wantKind: "Widget", wantAPI: "example.com/v1", statusOnly: true, namespaced: true},
		{name: "singular", kindOrArg: "widget", wantKind: "Widget", wantAPI: "example.com/v1", statusOnly: true, namespaced: true},
		{name: "short name", kindOrArg: "pvc", wantKind: "PersistentVolumeClaim", wantAPI: "v1", statusOnly: true, namespaced: true},
		{name: "resource.version.group", kindOrArg: "widgets.v1.example.com", wantKind: "Widget", wantAPI: "example.com/v1", statusOnly: true, namespaced: true},
		{name: "an unknown resource", kindOrArg: "gizmos", noMatch: true},
		// An Argo Rollout is judged by its pods (argorollout.go), not by kstatus.
		{name: "an Argo Rollout from a manifest", apiVersion: "argoproj.io/v1alpha1", kindOrArg: "Rollout", wantKind: "Rollout", wantAPI: "argoproj.io/v1alpha1", namespaced: true},
		{name: "an Argo Rollout by --workload rollout/NAME", kindOrArg: "rollout", wantKind: "Rollout", wantAPI: "argoproj.io/v1alpha1", namespaced: true},
		{name: "an Argo Rollout by its short name", kindOrArg: "ro", wantKind: "Rollout", wantAPI: "argoproj.io/v1alpha1", namespaced: true},
	}
	r := testResolver()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res Resolution
			var err error
			if tt.apiVersion != "" {
				res, err = r.ForObject(context.Background(), tt.apiVersion, tt.kindOrArg)
			} else {
				res, err = r.ForResource(context.Background(), tt.kindOrArg)
			}
			if tt.noMatch {
				if !meta.IsNoMatchError(err) {
					t.Fatalf("err = %v, want a no-match error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, byPods := res.Kind.(PodKind)
			if res.Kind.Name() != tt.wantKind || res.APIVersion != tt.wantAPI || byPods == tt.statusOnly ||
				res.Kind.Namespaced() != tt.namespaced || res.Skip != tt.skip {
				t.Errorf("got %s %s statusOnly=%v namespaced=%v skip=%q", res.Kind.Name(), res.APIVersion, !byPods, res.Kind.Namespaced(), res.Skip)
			}
		})
	}
}

// The generic kind reads and watches through the dynamic client; a Get of a missing object is
// NotFound, as for the rollout kinds.
func TestGenericKindReadsThroughTheDynamicClient(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	gvr := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	obj := widget(t, widgetHead+"status: {observedGeneration: 2, conditions: [{type: Ready, status: 'True'}]}").Object()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{gvr: "WidgetList"}, obj)
	k := &genericKind{gvk: schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, gvr: gvr, namespaced: true, dyn: dyn, watchDyn: dyn}
	w, err := k.Get(context.Background(), nil, "prod", "w")
	if err != nil || StatusOf(w).Status != StatusCurrent || Key(w.Kind()) != "Widget.example.com" {
		t.Fatalf("get: %v %+v", err, w)
	}
	if _, err := k.Get(context.Background(), nil, "prod", "missing"); err == nil {
		t.Error("get of a missing widget: no error")
	}
	c, err := k.Cache(nil, nil, "prod")
	if err != nil || len(c.Informers) != 1 || c.Informers[0].Run == nil || c.Informers[0].Resource != gvr.GroupResource() {
		t.Fatalf("cache: %v %+v", err, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Informers[0].Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.Informers[0].Informer.HasSynced) {
		t.Fatal("the informer did not sync")
	}
	if w, err := c.Get("w"); err != nil || w.Meta().GetName() != "w" {
		t.Errorf("cached get: %v", err)
	}
}
