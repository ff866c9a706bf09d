//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 13, custom resources: any kind with a status is judged through the kstatus conventions.
// The test installs a CRD of its own (a unique group per run: CRDs are cluster-scoped, and
// parallel runs must not collide), creates a custom resource, and writes its status through the
// status subresource as its controller would.

// widgetCRD is a CRD of a unique group, with the status subresource, installed for one test run.
type widgetCRD struct {
	group string
	gvr   schema.GroupVersionResource
	dyn   dynamic.Interface
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installWidgetCRD creates the CRD, waits until it is Established, and deletes it when the test ends.
func installWidgetCRD(t *testing.T) *widgetCRD {
	t.Helper()
	dyn, err := dynamic.NewForConfig(framework.RESTConfig(t))
	if err != nil {
		t.Fatalf("dynamic client: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	group := "e2e" + hex.EncodeToString(b) + ".rollout-gate.dev"
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets." + group, "labels": map[string]any{framework.E2ELabel: "true"}},
		"spec": map[string]any{
			"group": group,
			"scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
	ctx := context.Background()
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD widgets.%s: %v", group, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dyn.Resource(crdGVR).Delete(ctx, "widgets."+group, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete CRD widgets.%s: %v", group, err)
		}
	})
	framework.WaitFor(t, time.Minute, "CRD widgets."+group+" established", func(ctx context.Context) (bool, error) {
		u, err := dyn.Resource(crdGVR).Get(ctx, "widgets."+group, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	return &widgetCRD{group: group, gvr: schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, dyn: dyn}
}

func (c *widgetCRD) apiVersion() string { return c.group + "/v1" }

// create creates a Widget and returns it as the API server stored it.
func (c *widgetCRD) create(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": c.apiVersion(), "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"size": int64(3)},
	}}
	out, err := c.dyn.Resource(c.gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create widget %s: %v", name, err)
	}
	return out
}

// condition is one status condition as a controller writes it.
type condition struct{ Type, Status, Reason, Message string }

// writeStatus writes the Widget's status through the status subresource, as its controller would:
// the conditions, and observedGeneration = the generation it has seen.
func (c *widgetCRD) writeStatus(t *testing.T, ns, name string, conds ...condition) {
	t.Helper()
	ctx := context.Background()
	r := c.dyn.Resource(c.gvr).Namespace(ns)
	u, err := r.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get widget %s: %v", name, err)
	}
	var list []any
	for _, cd := range conds {
		list = append(list, map[string]any{"type": cd.Type, "status": cd.Status, "reason": cd.Reason, "message": cd.Message,
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": u.GetGeneration()})
	}
	u.Object["status"] = map[string]any{"observedGeneration": u.GetGeneration(), "conditions": list}
	if _, err := r.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("write status of widget %s: %v", name, err)
	}
}

// gateWatching starts the gate and returns once its progress (stderr) shows line: the gate is
// then watching, and what the test writes next reaches it through its watch.
func gateWatching(t *testing.T, line string, args ...string) *gateRunning {
	t.Helper()
	g := startGateRun(t, args...)
	select {
	case <-g.p.stderr.shows(line):
		return g
	case <-g.p.exited:
		run := g.wait(t)
		t.Fatalf("the gate ended (exit %d) before it printed %q\nstderr:\n%s", run.Exit, line, run.Stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the gate did not print %q within 2m", line)
	}
	return nil
}

func TestCustomResources(t *testing.T) {
	t.Parallel()
	crd := installWidgetCRD(t)

	// A controller that reports Ready=True for the generation it has seen: healthy, exit 0.
	t.Run("ReadyIsHealthy", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		crd.create(t, ns, "web")
		// The gate watches the Widget while it has no status yet, then its controller reports Ready.
		done := gateWatching(t, "widget/web: waiting for its controller to write a status",
			"-n", ns, "--workload", "widgets."+crd.group+"/web", "--timeout", "2m")
		crd.writeStatus(t, ns, "web", condition{"Ready", "False", "Progressing", "1 of 3 replicas serve"})
		crd.writeStatus(t, ns, "web", condition{"Ready", "True", "Reconciled", "all 3 replicas serve"})
		run := done.wait(t)
		run.mustEnd(t, 0, report.VerdictHealthy)
		w := run.workload(t, "widget/web")
		if w.Verdict != report.VerdictHealthy || w.Status == nil || w.Status.Status != "Current" || w.APIVersion != crd.apiVersion() {
			t.Fatalf("widget/web: %+v (status %+v), want healthy, kstatus Current, apiVersion %s", w, w.Status, crd.apiVersion())
		}
		t.Logf("widget/web healthy: %s (%s), gate run %s\nstderr:\n%s", w.Message, w.Reason, run.Duration.Round(time.Millisecond), run.Stderr)
	})

	// Stalled=True is kstatus's Failed: exit 1 at once, the condition's reason and message quoted.
	t.Run("StalledFails", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		crd.create(t, ns, "db")
		crd.writeStatus(t, ns, "db", condition{"Ready", "False", "Progressing", "creating the database"})
		done := gateWatching(t, "widget/db: InProgress: creating the database", "-n", ns, "--workload", "widget/db", "--timeout", "5m")
		const msg = "spec.size 3 exceeds the quota of 2"
		crd.writeStatus(t, ns, "db", condition{"Ready", "False", "QuotaExceeded", msg}, condition{"Stalled", "True", "QuotaExceeded", msg})
		run := done.wait(t)
		w := wantStatusFailed(t, run, "widget/db", "QuotaExceeded", msg)
		if len(w.Status.Conditions) != 2 {
			t.Errorf("conditions %+v, want Ready and Stalled as evidence", w.Status.Conditions)
		}
	})

	// Ready=False with a failure reason (Flux's InstallFailed and the like): exit 1, message quoted.
	t.Run("ReadyFalseWithFailureReasonFails", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		crd.create(t, ns, "cache")
		done := startGateRun(t, "-n", ns, "--workload", "widgets."+crd.group+"/cache", "--timeout", "5m")
		const msg = "install failed: image cache:9.9 not found"
		crd.writeStatus(t, ns, "cache", condition{"Ready", "False", "InstallFailed", msg})
		wantStatusFailed(t, done.wait(t), "widget/cache", "InstallFailed", msg)
	})

	// Never Ready: a timeout (exit 1, verdict timeout) whose message quotes the conditions.
	t.Run("NeverReadyTimesOut", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		crd.create(t, ns, "queue")
		crd.writeStatus(t, ns, "queue", condition{"Ready", "False", "Provisioning", "waiting for volume vol-123 to attach"})
		run := runGate(t, "-n", ns, "--workload", "widgets."+crd.group+"/queue", "--timeout", "8s")
		run.mustEnd(t, 1, report.VerdictTimeout)
		w := run.workload(t, "widget/queue")
		if w.Verdict != report.VerdictTimeout || !strings.Contains(w.Message, "Ready=False (Provisioning: waiting for volume vol-123 to attach)") {
			t.Fatalf("widget/queue: %s %q, want a timeout quoting the Ready condition", w.Verdict, w.Message)
		}
		if !strings.Contains(run.Stdout, "Ready=False Provisioning: waiting for volume vol-123 to attach") {
			t.Errorf("the text report does not list the condition:\n%s", run.Stdout)
		}
		t.Logf("widget/queue: %s", w.Message)
	})

	// A built-in kind judged by kstatus's own rule: a PVC no provisioner binds (the local cluster
	// has no default StorageClass) times out, and the message says it is not Bound.
	t.Run("UnboundPVCTimesOut", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		c := framework.Client(t)
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: ns},
			Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("e2e-none"),
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}}}}
		if _, err := c.CoreV1().PersistentVolumeClaims(ns).Create(context.Background(), pvc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		run := runGate(t, "-n", ns, "--workload", "pvc/data", "--timeout", "5s")
		w := run.workload(t, "persistentvolumeclaim/data")
		if run.Exit != 1 || w.Verdict != report.VerdictTimeout || !strings.Contains(w.Message, "PVC is not Bound. phase: Pending") {
			t.Fatalf("exit %d, %s %q; want 1, a timeout saying the PVC is not Bound", run.Exit, w.Verdict, w.Message)
		}
		t.Logf("persistentvolumeclaim/data: %s", w.Message)
	})

	// A kind the API server does not serve (its CRD is not installed): exit 2, saying so.
	t.Run("UnknownKindIsAnError", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		manifest := writeManifest(t, fmt.Sprintf("apiVersion: nothere.%s/v1\nkind: Gadget\nmetadata: {name: g, namespace: %s}\n", crd.group, ns))
		run := runGate(t, "-f", manifest, "--timeout", "1m")
		if run.Exit != 2 || !strings.Contains(run.Report.Message, "CustomResourceDefinition installed") {
			t.Fatalf("exit %d message %q, want 2 saying the CRD is not installed", run.Exit, run.Report.Message)
		}
		t.Logf("unknown kind: %s", run.Report.Message)
	})

	// One release manifest: a Deployment, a Widget, and a ConfigMap (skipped, with the reason).
	t.Run("ReleaseWithDeploymentAndCustomResource", func(t *testing.T) {
		t.Parallel()
		ns := framework.Namespace(t)
		c := framework.Client(t)
		framework.Apply(t, c, framework.Deployment(ns, "api"))
		crd.create(t, ns, "api-widget")
		if _, err := c.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "api-config", Namespace: ns}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		manifest := writeManifest(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: %[1]s}
---
apiVersion: %[2]s
kind: Widget
metadata: {name: api-widget, namespace: %[1]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config, namespace: %[1]s}
`, ns, crd.apiVersion()))
		done := startGateRun(t, "-f", manifest, "--soak", "2s", "--timeout", "3m", "--wait-all")
		crd.writeStatus(t, ns, "api-widget", condition{"Ready", "True", "Reconciled", "ok"})
		run := done.wait(t)
		run.mustExit(t, 0)
		for ref, want := range map[string]report.Verdict{"deployment/api": report.VerdictHealthy, "widget/api-widget": report.VerdictHealthy, "configmap/api-config": report.VerdictSkipped} {
			if w := run.workload(t, ref); w.Verdict != want {
				t.Errorf("%s: %s (%s), want %s", ref, w.Verdict, w.Message, want)
			}
		}
		if w := run.workload(t, "configmap/api-config"); w.Message != "ConfigMap has no status to judge" {
			t.Errorf("configmap/api-config: message %q, want the reason it is skipped", w.Message)
		}
		if w := run.workload(t, "widget/api-widget"); w.Source == nil || w.Source.Line != 5 {
			t.Errorf("widget/api-widget: source %+v, want manifest line 5", w.Source)
		}
	})
}

// wantStatusFailed checks exit 1, the resource failed with reason, and its message quoted in the
// JSON report and in the text report.
func wantStatusFailed(t *testing.T, run gateRun, ref, reason, msg string) report.Workload {
	t.Helper()
	run.mustEnd(t, 1, report.VerdictFailed)
	w := run.workload(t, ref)
	if w.Verdict != report.VerdictFailed || w.Reason != reason || !strings.Contains(w.Message, msg) || w.Status == nil {
		t.Fatalf("%s: %s %s %q (status %+v), want failed %s quoting %q", ref, w.Verdict, w.Reason, w.Message, w.Status, reason, msg)
	}
	if !strings.Contains(run.Stdout, msg) {
		t.Errorf("the text report does not quote %q:\n%s", msg, run.Stdout)
	}
	t.Logf("%s: %s %s after %.1fs (gate run %s): %s\nstderr:\n%s", ref, w.Verdict, w.Reason, float64(w.Duration), run.Duration.Round(time.Millisecond), w.Message, run.Stderr)
	return w
}
