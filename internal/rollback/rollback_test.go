package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

const ns = "prod"

var (
	t0    = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	appsG = schema.GroupResource{Group: "apps"}
)

// clock returns a Now that advances one second per call, so Duration is deterministic.
func clock() func() time.Time {
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

func podTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "api", Image: image,
			Env: []corev1.EnvVar{{Name: "DB_PORT", Value: "5432"}, {Name: "DB_PASSWORD", Value: "hunter2-" + image}},
		}}},
	}
}

func deployment(rev string, image string, paused bool) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns, UID: "dep-uid",
			Annotations: map[string]string{"deployment.kubernetes.io/revision": rev}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: podTemplate(image),
			Paused:   paused,
		},
	}
}

func replicaSet(rev, image string) *appsv1.ReplicaSet {
	t := podTemplate(image)
	t.Labels = map[string]string{"app": "api", appsv1.DefaultDeploymentUniqueLabelKey: "hash" + rev}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-hash" + rev, Namespace: ns, Labels: t.Labels, UID: types.UID("rs-uid-" + rev),
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": rev},
			OwnerReferences: []metav1.OwnerReference{controller("Deployment", "api", "dep-uid")}},
		Spec: appsv1.ReplicaSetSpec{Replicas: new(int32), Template: t},
	}
}

func controller(kind, name string, uid types.UID) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: &yes}
}

// revisionData is what the StatefulSet and DaemonSet controllers store in a ControllerRevision:
// a strategic merge patch that replaces spec.template (k8s.io/kubernetes pkg/controller/history).
func revisionData(t *testing.T, tmpl corev1.PodTemplateSpec) runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["$patch"] = "replace"
	raw, err := json.Marshal(map[string]any{"spec": map[string]any{"template": m}})
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: raw}
}

func controllerRevision(t *testing.T, owner, kind string, uid types.UID, rev int64, image string) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: owner + "-" + image, Namespace: ns, Labels: map[string]string{"app": "api"},
			OwnerReferences: []metav1.OwnerReference{controller(kind, owner, uid)}},
		Revision: rev,
		Data:     revisionData(t, podTemplate(image)),
	}
}

// withHistory is w (a StatefulSet or a DaemonSet) with its own ControllerRevisions 1, 2, … of
// these images.
func withHistory(w interface {
	runtime.Object
	metav1.Object
}, images ...string) func(*testing.T) []runtime.Object {
	return func(t *testing.T) []runtime.Object {
		kind := "StatefulSet"
		if _, ok := w.(*appsv1.DaemonSet); ok {
			kind = "DaemonSet"
		}
		objs := []runtime.Object{w}
		for i, image := range images {
			objs = append(objs, controllerRevision(t, w.GetName(), kind, w.GetUID(), int64(i+1), image))
		}
		return objs
	}
}

func statefulSet(policy appsv1.PodManagementPolicyType, strategy appsv1.StatefulSetUpdateStrategyType, image, updateRevision string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, UID: "sts-uid", Generation: 2},
		Spec: appsv1.StatefulSetSpec{
			Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template:            podTemplate(image),
			PodManagementPolicy: policy,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: strategy},
		},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, CurrentRevision: "web-v1", UpdateRevision: updateRevision},
	}
}

func daemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns, UID: "ds-uid"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: podTemplate(image),
		},
	}
}

func pod(name, hash string, isReady bool, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(name + "-uid"),
			Labels: map[string]string{"app": "api", appsv1.ControllerRevisionHashLabelKey: hash}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	status := corev1.ConditionFalse
	if isReady {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

// playStatefulSetController makes the fake behave like the StatefulSet controller after an undo:
// once the patch is applied, the controller observes it and moves updateRevision to the revision
// rolled back to. The fake applies the strategic merge patch itself but runs no controller.
func playStatefulSetController(cs *fake.Clientset, updateRevision string) {
	cs.PrependReactor("patch", "statefulsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		_, obj, err := k8stesting.ObjectReaction(cs.Tracker())(a)
		if err != nil {
			return true, nil, err
		}
		sts := obj.(*appsv1.StatefulSet)
		sts.Generation++
		sts.Status.ObservedGeneration = sts.Generation
		sts.Status.UpdateRevision = updateRevision
		gvr := appsv1.SchemeGroupVersion.WithResource("statefulsets")
		return true, sts, cs.Tracker().Update(gvr, sts, sts.Namespace)
	})
}

func forbid(verb, resource string, gr schema.GroupResource) func(*fake.Clientset) {
	return func(cs *fake.Clientset) {
		cs.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
			gr.Resource = resource
			return true, nil, apierrors.NewForbidden(gr, "x", errors.New(
				`User "system:serviceaccount:prod:rollout-gate" cannot `+verb+` resource "`+resource+`"`))
		})
	}
}

func verdict(v report.Verdict, msg string) Verifier {
	return func(context.Context, workload.Kind, report.Ref) (report.Verdict, string, error) { return v, msg, nil }
}

// undo is Undo of a workload named by a kind as kubectl spells it, resolved as the targets are:
// by the switch, else as a kind outside it (otherKind).
func undo(r *Rollbacker, kind, namespace, name string) report.Rollback {
	return r.Undo(context.Background(), kindOf(kind), report.Ref{Kind: kind, Namespace: namespace, Name: name}, nil)
}

func kindOf(kind string) workload.Kind {
	if k, ok := workload.Lookup(kind); ok {
		return k
	}
	return otherKind{name: kind}
}

// otherKind is a kind outside the switch (a CronJob, a custom resource): judged by its status.
type otherKind struct {
	workload.Kind
	name string
}

func (k otherKind) Name() string { return k.name }

func mutating(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "get", "list", "watch":
		default:
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

// nameOf is the name of the test workload of a kind: web, agent, or api.
func nameOf(kind string) string {
	if name := map[string]string{"statefulset": "web", "daemonset": "agent"}[strings.ToLower(kind)]; name != "" {
		return name
	}
	return "api"
}

func TestUndo(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, cs *fake.Clientset, got report.Rollback)
	liveImage := func(kind, want string) check {
		return func(t *testing.T, cs *fake.Clientset, _ report.Rollback) {
			t.Helper()
			k, _ := workload.Lookup(kind)
			w, err := k.Get(context.Background(), kubetest.Wrap(cs), ns, nameOf(kind))
			if err != nil {
				t.Fatal(err)
			}
			tmpl := w.(workload.PodWorkload).Template()
			if got := tmpl.Spec.Containers[0].Image; got != want {
				t.Errorf("live image = %q, want %q", got, want)
			}
			if _, ok := tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
				t.Errorf("pod-template-hash label copied into the template: %v", tmpl.Labels)
			}
		}
	}
	noMutation := func(t *testing.T, cs *fake.Clientset, _ report.Rollback) {
		t.Helper()
		if m := mutating(cs.Actions()); len(m) > 0 {
			t.Errorf("mutating calls %v, want none", m)
		}
	}
	remainingPods := func(want ...string) check {
		return func(t *testing.T, cs *fake.Clientset, _ report.Rollback) {
			t.Helper()
			list, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range list.Items {
				got = append(got, p.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("pods left = %v, want %v", got, want)
			}
		}
	}
	// deploymentWith is Deployment api at revision rev (image), with the ReplicaSets of revisions
	// revs, each of image app:v<rev>.
	deploymentWith := func(rev, image string, paused bool, revs ...string) func(*testing.T) []runtime.Object {
		return func(*testing.T) []runtime.Object {
			objs := []runtime.Object{deployment(rev, image, paused)}
			for _, r := range revs {
				objs = append(objs, replicaSet(r, "app:v"+r))
			}
			return objs
		}
	}
	stsOwner := controller("StatefulSet", "web", "sts-uid")
	stsPods := func() []runtime.Object {
		return []runtime.Object{
			pod("web-0", "web-v1", true, &stsOwner),  // old revision, fine
			pod("web-1", "web-v2", true, &stsOwner),  // failed revision but ready: the controller replaces it
			pod("web-2", "web-v2", false, &stsOwner), // failed revision, crash-looping: blocks OrderedReady
			pod("other-0", "web-v2", false, nil),     // same labels, not owned: never touched
			pod("web-3", "web-v1", false, &stsOwner), // not ready but already on the good revision
		}
	}

	// stsRolledOut is StatefulSet web rolled out from revision 1 (v1) to revision 2 (v2), with
	// stsPods, under the given pod management policy and update strategy.
	stsRolledOut := func(policy appsv1.PodManagementPolicyType, strategy appsv1.StatefulSetUpdateStrategyType) func(*testing.T) []runtime.Object {
		return func(t *testing.T) []runtime.Object {
			return append(stsPods(), withHistory(statefulSet(policy, strategy, "v2", "web-v2"), "v1", "v2")(t)...)
		}
	}

	tests := []struct {
		name      string
		kind      string
		objects   func(t *testing.T) []runtime.Object
		setup     func(cs *fake.Clientset)
		dryRun    bool
		undone    bool // the undo was applied to the cluster
		verify    Verifier
		timeout   time.Duration
		status    string
		from, to  string
		deleted   []string
		contains  []string
		excludes  []string
		checks    []check
		patchType types.PatchType
		// historyForbidden: the case forbids reading the history, which an undo from the
		// watch's observation does not do.
		historyForbidden bool
	}{
		{
			name:    "deployment rolled back to the previous replicaset",
			undone:  true,
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			status:  report.RollbackRolledBack, from: "2", to: "1",
			contains:  []string{"rolled back deployment prod/api from revision 2 to revision 1", "not verified"},
			checks:    []check{liveImage("Deployment", "app:v1")},
			patchType: types.JSONPatchType,
		},
		{
			name:    "deployment picks the second-highest of three revisions",
			undone:  true,
			kind:    "deployment",
			objects: deploymentWith("7", "app:v7", false, "3", "7", "5"),
			verify:  verdict(report.VerdictHealthy, "3/3 pods ready"),
			status:  report.RollbackRolledBack, from: "7", to: "5",
			contains: []string{"healthy again: 3/3 pods ready"},
			checks:   []check{liveImage("Deployment", "app:v5")},
		},
		{
			name:    "first deploy has nothing to roll back to",
			kind:    "Deployment",
			objects: deploymentWith("1", "app:v1", false, "1"),
			status:  report.RollbackSkipped, from: "1",
			contains: []string{"first deploy", "no previous revision"},
			checks:   []check{noMutation},
		},
		{
			name:    "paused deployment is refused with kubectl's hint",
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", true, "1", "2"),
			status:  report.RollbackRefused, from: "2", to: "1",
			contains: []string{"is paused", "`kubectl rollout resume deployment/api -n prod`"},
			checks:   []check{noMutation},
		},
		{
			name: "paused deployment is refused in a dry run too",
			kind: "Deployment", dryRun: true,
			objects: deploymentWith("2", "app:v2", true, "1", "2"),
			status:  report.RollbackRefused, from: "2", to: "1",
			contains: []string{"kubectl rollout resume deployment/api"},
			checks:   []check{noMutation},
		},
		{
			// The template was reverted by hand and the controller has not caught up yet.
			name:    "deployment template already equal to the previous revision is skipped by kubectl",
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v1", false, "1", "2"),
			status:  report.RollbackSkipped, from: "2", to: "1",
			contains: []string{"skipped rollback (current template already matches revision 1)"},
			checks:   []check{noMutation},
		},
		{
			name: "dry run says what would change and changes nothing",
			kind: "Deployment", dryRun: true,
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			status:  report.RollbackDryRun, from: "2", to: "1",
			contains: []string{"would roll back deployment prod/api from revision 2 to revision 1",
				"containers[api].image: app:v2 -> app:v1", "containers[api].env[DB_PASSWORD]: (masked) -> (masked)",
				"nothing was changed"},
			excludes: []string{"hunter2"},
			checks:   []check{noMutation, liveImage("Deployment", "app:v2")},
		},
		{
			name:    "verify still failing",
			undone:  true,
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			verify:  verdict(report.VerdictFailed, "pod api-1 CrashLoopBackOff"),
			status:  report.RollbackFailed, from: "2", to: "1",
			contains: []string{"still failing: pod api-1 CrashLoopBackOff"},
		},
		{
			name:    "verify timeout verdict",
			undone:  true,
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			verify:  verdict(report.VerdictTimeout, "1/3 ready"), timeout: time.Minute,
			status: report.RollbackTimeout, from: "2", to: "1",
			contains: []string{"did not become healthy within 1m0s: 1/3 ready"},
		},
		{
			name:    "verify runs past --rollback-timeout",
			undone:  true,
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			verify: func(ctx context.Context, _ workload.Kind, _ report.Ref) (report.Verdict, string, error) {
				<-ctx.Done() // a verifier that never sees the workload healthy
				return "", "", ctx.Err()
			},
			timeout: time.Nanosecond,
			status:  report.RollbackTimeout, from: "2", to: "1",
			contains: []string{"did not become healthy within 1ns"},
		},
		{
			name:    "forbidden patch names the RBAC rule",
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			setup:   forbid("patch", "deployments", appsG),
			status:  report.RollbackFailed, from: "2", to: "1",
			contains: []string{"undo deployment prod/api: forbidden", "may not patch deployments.apps",
				"apiGroups: [apps]", "resources: [deployments]", "verbs: [patch]", "deploy/rbac.yaml"},
		},
		{
			name:    "forbidden history read names the RBAC rule",
			kind:    "Deployment",
			objects: deploymentWith("2", "app:v2", false, "1", "2"),
			setup:   forbid("list", "replicasets", appsG),
			status:  report.RollbackFailed, historyForbidden: true,
			contains: []string{"undo deployment prod/api: read rollout history: forbidden", "may not list replicasets.apps", "verbs: [list]"},
			checks:   []check{noMutation},
		},
		{
			name:     "missing deployment",
			kind:     "Deployment",
			objects:  func(*testing.T) []runtime.Object { return nil },
			status:   report.RollbackFailed,
			contains: []string{`undo deployment prod/api: deployments.apps "api" not found`},
		},
		{
			name: "a Job has no rollback and is not touched",
			kind: "Job",
			objects: func(*testing.T) []runtime.Object {
				return []runtime.Object{&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns}}}
			},
			status:   report.RollbackSkipped,
			contains: []string{"rollback does not apply to a Job: job prod/api runs to completion", "it was not touched", "kubectl delete job/api -n prod"},
			checks:   []check{noMutation},
		},
		{
			name:   "a Job in a dry run is said to have no rollback either",
			kind:   "job",
			dryRun: true,
			objects: func(*testing.T) []runtime.Object {
				return []runtime.Object{&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns}}}
			},
			status:   report.RollbackSkipped,
			contains: []string{"rollback does not apply to a Job"},
			checks:   []check{noMutation},
		},
		{
			name:     "kind kubectl cannot undo",
			kind:     "CronJob",
			objects:  func(*testing.T) []runtime.Object { return nil },
			status:   report.RollbackSkipped,
			contains: []string{"supports only Deployments, StatefulSets and DaemonSets"},
			checks:   []check{noMutation},
		},
		{
			name:    "statefulset under OrderedReady: not-ready pods of the failed revision deleted",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType),
			setup:   func(cs *fake.Clientset) { playStatefulSetController(cs, "web-v1") },
			status:  report.RollbackRolledBack, from: "2", to: "1", deleted: []string{"web-2"},
			contains:  []string{"rolled back statefulset prod/web from revision 2 to revision 1", "web-2", "kubernetes#67250"},
			checks:    []check{liveImage("StatefulSet", "v1"), remainingPods("other-0", "web-0", "web-1", "web-3")},
			patchType: types.StrategicMergePatchType,
		},
		{
			name:    "statefulset with the default (empty) policy is OrderedReady",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut("", appsv1.RollingUpdateStatefulSetStrategyType),
			setup:   func(cs *fake.Clientset) { playStatefulSetController(cs, "web-v1") },
			status:  report.RollbackRolledBack, from: "2", to: "1", deleted: []string{"web-2"},
		},
		{
			name:    "statefulset Parallel with RollingUpdate: the controller replaces pods itself",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut(appsv1.ParallelPodManagement, appsv1.RollingUpdateStatefulSetStrategyType),
			status:  report.RollbackRolledBack, from: "2", to: "1",
			checks: []check{liveImage("StatefulSet", "v1"), remainingPods("other-0", "web-0", "web-1", "web-2", "web-3")},
		},
		{
			name:    "statefulset Parallel with OnDelete: broken pods deleted, else nothing replaces them",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut(appsv1.ParallelPodManagement, appsv1.OnDeleteStatefulSetStrategyType),
			setup:   func(cs *fake.Clientset) { playStatefulSetController(cs, "web-v1") },
			status:  report.RollbackRolledBack, from: "2", to: "1", deleted: []string{"web-2"},
		},
		{
			name: "statefulset dry run names the pods it would delete",
			kind: "StatefulSet", dryRun: true,
			objects: stsRolledOut(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType),
			status:  report.RollbackDryRun, from: "2", to: "1",
			contains: []string{"from revision 2 to revision 1", "containers[api].image: v2 -> v1",
				"would delete the not-ready pod(s) web-2 of revision 2"},
			checks: []check{noMutation},
		},
		{
			name:    "statefulset pod delete forbidden names the RBAC rule",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType),
			setup: func(cs *fake.Clientset) {
				playStatefulSetController(cs, "web-v1")
				forbid("delete", "pods", schema.GroupResource{})(cs)
			},
			status: report.RollbackFailed, from: "2", to: "1",
			contains: []string{"rolled back statefulset prod/web from revision 2 to revision 1, but delete stuck pod prod/web-2: forbidden",
				"may not delete pods", `apiGroups: [""]`, "verbs: [delete]"},
		},
		{
			name:    "statefulset controller never takes up the undo",
			undone:  true,
			kind:    "StatefulSet",
			objects: stsRolledOut(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType),
			timeout: time.Nanosecond, // no reactor plays the controller, so updateRevision stays at web-v2
			status:  report.RollbackTimeout, from: "2", to: "1",
			contains: []string{"did not take up the rollback"},
			checks:   []check{remainingPods("other-0", "web-0", "web-1", "web-2", "web-3")},
		},
		{
			name:    "statefulset template already equal to the previous revision",
			kind:    "StatefulSet",
			objects: withHistory(statefulSet(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType, "v1", "web-v2"), "v1", "v2"),
			status:  report.RollbackSkipped, from: "2", to: "1",
			contains: []string{"skipped rollback (current template already matches revision 1)"},
			checks:   []check{noMutation},
		},
		{
			name:    "statefulset first deploy",
			kind:    "StatefulSet",
			objects: withHistory(statefulSet(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType, "v1", "web-v1"), "v1"),
			status:  report.RollbackSkipped, from: "1",
			contains: []string{"first deploy"},
			checks:   []check{noMutation},
		},
		{
			name:   "daemonset rolled back through its ControllerRevisions",
			undone: true,
			kind:   "DaemonSet",
			objects: func(t *testing.T) []runtime.Object {
				return append(withHistory(daemonSet("v2"), "v1", "v2")(t),
					controllerRevision(t, "agent", "DaemonSet", "other-uid", 3, "v3")) // owned by another DaemonSet
			},
			verify: verdict(report.VerdictHealthy, ""),
			status: report.RollbackRolledBack, from: "2", to: "1",
			contains:  []string{"rolled back daemonset prod/agent from revision 2 to revision 1 and it is healthy again"},
			checks:    []check{liveImage("DaemonSet", "v1")},
			patchType: types.StrategicMergePatchType,
		},
		{
			name: "daemonset dry run",
			kind: "DaemonSet", dryRun: true,
			objects: withHistory(daemonSet("v2"), "v1", "v2"),
			status:  report.RollbackDryRun, from: "2", to: "1",
			contains: []string{"containers[api].image: v2 -> v1"},
			checks:   []check{noMutation},
		},
		{
			name:    "daemonset first deploy",
			kind:    "DaemonSet",
			objects: withHistory(daemonSet("v1"), "v1"),
			status:  report.RollbackSkipped, from: "1",
			contains: []string{"first deploy: daemonset prod/agent has no previous revision"},
			checks:   []check{noMutation},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(tc.objects(t)...)
			if tc.setup != nil {
				tc.setup(cs)
			}
			r := &Rollbacker{Client: kubetest.Wrap(cs), DryRun: tc.dryRun, Verify: tc.verify, Timeout: tc.timeout, Now: clock()}
			got := undo(r, tc.kind, ns, nameOf(tc.kind))
			t.Logf("%s: %s", got.Status, got.Message)

			if got.Status != tc.status {
				t.Errorf("Status = %q, want %q (message: %s)", got.Status, tc.status, got.Message)
			}
			if got.FromRevision != tc.from || got.ToRevision != tc.to {
				t.Errorf("revisions = %q -> %q, want %q -> %q", got.FromRevision, got.ToRevision, tc.from, tc.to)
			}
			if got.Undone != tc.undone {
				t.Errorf("Undone = %v, want %v", got.Undone, tc.undone)
			}
			if !slices.Equal(got.DeletedPods, tc.deleted) {
				t.Errorf("DeletedPods = %v, want %v", got.DeletedPods, tc.deleted)
			}
			if got.Duration <= 0 {
				t.Errorf("Duration = %v, want > 0", got.Duration)
			}
			for _, s := range tc.contains {
				if !strings.Contains(got.Message, s) {
					t.Errorf("message lacks %q:\n%s", s, got.Message)
				}
			}
			for _, s := range tc.excludes {
				if strings.Contains(got.Message, s) {
					t.Errorf("message contains %q:\n%s", s, got.Message)
				}
			}
			if tc.patchType != "" {
				var patches []types.PatchType
				for _, a := range cs.Actions() {
					if p, ok := a.(k8stesting.PatchAction); ok {
						patches = append(patches, p.GetPatchType())
					}
				}
				if !slices.Equal(patches, []types.PatchType{tc.patchType}) {
					t.Errorf("patches = %v, want one %s patch", patches, tc.patchType)
				}
			}
			for _, c := range tc.checks {
				c(t, cs, got)
			}
			if tc.historyForbidden {
				return // the watch's observation spares the very read this case forbids
			}
			// The same undo from the watch's observation of the failed rollout: the same result,
			// from fewer reads of the history.
			ocs := fake.NewClientset(tc.objects(t)...)
			if tc.setup != nil {
				tc.setup(ocs)
			}
			or := &Rollbacker{Client: kubetest.Wrap(ocs), DryRun: tc.dryRun, Verify: tc.verify, Timeout: tc.timeout, Now: clock()}
			obs := observation(tc.objects(t), tc.kind)
			ogot := or.Undo(context.Background(), kindOf(tc.kind), report.Ref{Kind: tc.kind, Namespace: ns, Name: nameOf(tc.kind)}, obs)
			if !reflect.DeepEqual(ogot, got) {
				t.Errorf("from the watch's observation:\n%+v\nwant the same as without:\n%+v", ogot, got)
			}
			if obs != nil && obs.Previous != nil && got.ToRevision != "" && historyReads(ocs) >= historyReads(cs) {
				t.Errorf("from the watch's observation: %d reads of the history, without: %d; want fewer", historyReads(ocs), historyReads(cs))
			}
		})
	}
}

// observation is what the watch would hand on for the workload of kind among objs: its history
// and the pods of its new revision, as they are.
func observation(objs []runtime.Object, kind string) *workload.Observation {
	var wl workload.PodWorkload
	var h workload.History
	var pods []corev1.Pod
	k, _ := workload.Lookup(kind)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.ReplicaSet:
			h.ReplicaSets = append(h.ReplicaSets, o)
		case *appsv1.ControllerRevision:
			h.ControllerRevisions = append(h.ControllerRevisions, o)
		case *corev1.Pod:
			pods = append(pods, *o)
		default:
			if w, err := workload.For(o); err == nil && k != nil && w.Kind().Name() == k.Name() {
				wl = w
			}
		}
	}
	if wl == nil {
		return nil
	}
	obs := workload.Observe(wl, h, nil)
	for _, p := range pods {
		if obs.Current != nil && obs.Current.Owns(&p) {
			obs.Pods = append(obs.Pods, p)
		}
	}
	return obs
}

// historyReads counts the gets and lists of a workload's history and of the workload itself.
func historyReads(cs *fake.Clientset) int {
	n := 0
	for _, a := range cs.Actions() {
		switch a.GetResource().Resource {
		case "replicasets", "controllerrevisions", "deployments", "statefulsets", "daemonsets":
			if a.GetVerb() == "get" || a.GetVerb() == "list" {
				n++
			}
		}
	}
	return n
}

func TestApplies(t *testing.T) {
	t.Parallel()
	// A CronJob is judged by its status (when at all): the run never rolls it back.
	for kind, want := range map[string]bool{"Deployment": true, "sts": true, "DaemonSet": true, "Job": false, "jobs.batch": false, "CronJob": false} {
		if got := Applies(kindOf(kind)); got != want {
			t.Errorf("Applies(%q) = %v, want %v", kind, got, want)
		}
	}
}
