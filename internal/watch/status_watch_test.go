package watch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

var widgetGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

// widgetObject is a Widget of generation 1, with the given status (nil: none yet).
func widgetObject(status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "prod", "generation": int64(1)},
	}}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

func conditionsStatus(conds ...map[string]any) map[string]any {
	list := make([]any, len(conds))
	for i, c := range conds {
		list[i] = c
	}
	return map[string]any{"observedGeneration": int64(1), "conditions": list}
}

// widgetSetup is a fake cluster that serves Widgets (with a status subresource), and the
// Widget w resolved as the gate resolves it.
func widgetSetup(t *testing.T, objs ...runtime.Object) (*dynamicfake.FakeDynamicClient, *fake.Clientset, target.Target) {
	t.Helper()
	client := fake.NewClientset()
	d := kubetest.Discovery(&metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Verbs: []string{"get", "list", "watch"}},
		{Name: "widgets/status", Namespaced: true, Kind: "Widget"},
	}})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{widgetGVR: "WidgetList"}, objs...)
	ws, err := target.Resolve(context.Background(), workload.NewResolver(d, dyn, dyn),
		[]target.Target{{Kind: "Widget", APIVersion: "example.com/v1", Namespace: "prod", Name: "w", Skipped: true}})
	if err != nil || ws[0].Skipped || ws[0].Resolved == nil {
		t.Fatalf("resolve: %+v %v", ws, err)
	}
	return dyn, client, ws[0]
}

// The watch follows a custom resource through the dynamic client: no status yet, then its
// controller writes one; the verdict follows the conditions.
func TestWatchJudgesACustomResourceByItsStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  map[string]any
		verdict report.Verdict
		reason  string
		message string
	}{
		{name: "ready", verdict: report.VerdictHealthy, reason: "Current",
			status: conditionsStatus(map[string]any{"type": "Ready", "status": "True", "reason": "Reconciled"})},
		{name: "stalled", verdict: report.VerdictFailed, reason: "QuotaExceeded", message: "size 3 exceeds quota 2",
			status: conditionsStatus(map[string]any{"type": "Stalled", "status": "True", "reason": "QuotaExceeded", "message": "size 3 exceeds quota 2"})},
		{name: "ready false with a failure reason", verdict: report.VerdictFailed, reason: "InstallFailed", message: "image not found",
			status: conditionsStatus(map[string]any{"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "image not found"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dyn, client, wl := widgetSetup(t, widgetObject(nil))
			progress := newSyncWriter()
			w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Minute, Progress: progress}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := make(chan outcome, 1)
			go func() {
				res, err := w.Watch(ctx, []target.Target{wl})
				out <- outcome{res, err}
			}()
			waitLine(t, progress.lines, "widget/w: waiting for its controller to write a status")
			if _, err := dyn.Resource(widgetGVR).Namespace("prod").UpdateStatus(ctx, widgetObject(tt.status), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			r := waitResults(t, out)[0]
			if r.Verdict != tt.verdict || r.Reason != tt.reason || !strings.Contains(r.Message, tt.message) || r.Status == nil || len(r.Status.Conditions) != 1 {
				t.Fatalf("got %s %s %q status %+v, want %s %s %q with the condition", r.Verdict, r.Reason, r.Message, r.Status, tt.verdict, tt.reason, tt.message)
			}
		})
	}
}

// Never ready: the timeout quotes the conditions.
func TestWatchTimeoutOfACustomResourceQuotesConditions(t *testing.T) {
	t.Parallel()
	_, client, wl := widgetSetup(t, widgetObject(conditionsStatus(
		map[string]any{"type": "Ready", "status": "False", "reason": "Provisioning", "message": "attaching vol-1"})))
	w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Second}
	res, err := w.Watch(context.Background(), []target.Target{wl})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != report.VerdictTimeout || !strings.Contains(r.Message, "conditions: Ready=False (Provisioning: attaching vol-1)") || r.Status == nil {
		t.Fatalf("got %s %q %+v, want a timeout quoting the Ready condition", r.Verdict, r.Message, r.Status)
	}
}

// A missing RBAC rule on a custom resource is said with its own group and resource.
func TestForbiddenCustomResourceNamesItsRule(t *testing.T) {
	t.Parallel()
	dyn, client, wl := widgetSetup(t, widgetObject(nil))
	dyn.PrependReactor("list", "widgets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(widgetGVR.GroupResource(), "", errors.New(`User "ci" cannot list resource "widgets"`))
	})
	w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Minute}
	_, err := w.Watch(context.Background(), []target.Target{wl})
	for _, want := range []string{"list widgets -n prod", "apiGroups: [example.com]", "resources: [widgets]", "verbs: [list]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}
