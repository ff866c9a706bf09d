//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Issue 6: after a failed rollout the gate rolls back with `kubectl rollout undo` semantics,
// watches the rollback, and says whether production is healthy again. Each test deploys a
// healthy v1, then a v2 whose config makes it crash-loop, then runs the gate with --rollback.

// release makes a pod template release v of the app. Both read DATABASE_PORT as an integer at
// start-up; v2 ships DATABASE_PORT=abc (the runbook's bad-config cause), so it exits 1 and
// crash-loops. The two differ in args and env, which the rollback must both restore.
func release(tpl *corev1.PodTemplateSpec, v int) {
	port := "5432"
	if v == 2 {
		port = "abc"
	}
	c := &tpl.Spec.Containers[0]
	c.Args = []string{"--print", fmt.Sprintf("release v%d starting", v), "--require-int-env", "DATABASE_PORT"}
	c.Env = []corev1.EnvVar{framework.Env("DATABASE_PORT", port)}
	c.ReadinessProbe = framework.HTTPProbe("/ready")
}

// deploymentAt is Deployment name at release v of the app, with replicas pods.
func deploymentAt(ns, name string, replicas int32, v int) *appsv1.Deployment {
	d := framework.Deployment(ns, name)
	d.Spec.Replicas = ptr.To(replicas)
	release(&d.Spec.Template, v)
	return d
}

// statefulSetAt is StatefulSet name at release v of the app, with replicas pods.
func statefulSetAt(ns, name string, replicas int32, v int) *appsv1.StatefulSet {
	s := framework.StatefulSet(ns, name)
	s.Spec.Replicas = ptr.To(replicas)
	release(&s.Spec.Template, v)
	return s
}

// daemonSetAt is DaemonSet name at release v of the app.
func daemonSetAt(ns, name string, v int) *appsv1.DaemonSet {
	ds := framework.DaemonSet(ns, name)
	release(&ds.Spec.Template, v)
	return ds
}

// brokenRelease deploys Deployment name at release v1, waits until it is available, then applies
// the broken v2: the starting point of every rollback test of a Deployment.
func brokenRelease(t *testing.T, c kubernetes.Interface, ns, name string) {
	t.Helper()
	framework.Apply(t, c, deploymentAt(ns, name, 1, 1))
	framework.WaitForDeploymentAvailable(t, c, ns, name, 2*time.Minute)
	framework.Apply(t, c, deploymentAt(ns, name, 1, 2))
}

// rollbackArgs runs the gate on one workload with the rollback on.
func rollbackArgs(ns, ref string, extra ...string) []string {
	return append([]string{"-n", ns, "--workload", ref, "--rollback", "--rollback-timeout", "3m", "--soak", "10s"}, extra...)
}

// rolledBack checks what every successful rollback must show: exit 1 (the job still fails), the
// workload failed, rolled back from revision 2 to 1, verified healthy, and the JSON naming both
// revisions. It returns the workload's rollback.
func rolledBack(t *testing.T, run gateRun, ref string) report.Rollback {
	t.Helper()
	rb := failedWithRollback(t, run, ref)
	w := run.workload(t, ref)
	if w.Reason != "CrashLoopBackOff" {
		t.Errorf("%s reason %q, want CrashLoopBackOff", ref, w.Reason)
	}
	if !run.Report.RolledBack || !rb.Undone {
		t.Errorf("report.rolledBack %v, rollback.undone %v, want both true", run.Report.RolledBack, rb.Undone)
	}
	if rb.Status != report.RollbackRolledBack || rb.FromRevision != "2" || rb.ToRevision != "1" {
		t.Fatalf("rollback %s from %q to %q (%s), want rolled-back from 2 to 1", rb.Status, rb.FromRevision, rb.ToRevision, rb.Message)
	}
	if !strings.Contains(rb.Message, "from revision 2 to revision 1") || !strings.Contains(rb.Message, "healthy again") {
		t.Errorf("rollback message %q does not say from which revision to which, and that it is healthy again", rb.Message)
	}
	for _, field := range []string{`"fromRevision":\s*"2"`, `"toRevision":\s*"1"`, `"status":\s*"rolled-back"`} {
		if !regexp.MustCompile(field).Match(run.raw) {
			t.Errorf("the JSON report does not hold %s:\n%s", field, run.raw)
		}
	}
	if !hasChange(rb.Changes, "env[DATABASE_PORT]", `"abc"`, `"5432"`) {
		t.Errorf("rollback changes %+v do not show DATABASE_PORT going from abc back to 5432", rb.Changes)
	}
	if rb.Duration <= 0 || time.Duration(float64(rb.Duration)*float64(time.Second)) > run.Duration {
		t.Errorf("rollback duration %.3fs is not within the gate's run of %s", float64(rb.Duration), run.Duration)
	}
	t.Logf("%s rolled back in %.1fs (verdict %s after %.1fs; whole gate run %s): %s",
		ref, float64(rb.Duration), w.Verdict, float64(w.Duration), run.Duration.Round(time.Millisecond), rb.Message)
	return *rb
}

// failedWithRollback checks that the gate failed (a rollback, done or not, does not make the
// deploy pass) and returns the rollback the report holds for the workload.
func failedWithRollback(t *testing.T, run gateRun, ref string) *report.Rollback {
	t.Helper()
	run.mustEnd(t, 1, report.VerdictFailed, "a rollback does not make the deploy pass")
	rb := run.workload(t, ref).Rollback
	if rb == nil {
		t.Fatalf("%s has no rollback in the report\n%s", ref, run.raw)
	}
	return rb
}

// The statements of the rollout diagram in the Markdown report, and the start of each label.
var (
	diagramParticipant = regexp.MustCompile(`^    participant (gate|w[0-9]+) as ([\p{L}\p{N} ._\-/+(),=]+)$`)
	diagramStep        = regexp.MustCompile(`^    (?:Note over w[0-9]+|(?:gate|w[0-9]+)->>(?:gate|w[0-9]+)): \+(?:([0-9]+\.[0-9])s|([0-9]+)m([0-9]+)s)[ ,]`)
)

// wantRolloutDiagram checks the Mermaid diagram in the Markdown report of a failed and rolled
// back workload: one well-formed block of our statements only, in which the workload's lane
// shows, in this order, the rollout, its pods, a crash, the verdict, the rollback and healthy
// again, at times that never go back. The JSON timeline holds the same milestones.
func wantRolloutDiagram(t *testing.T, run gateRun, path, ref string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the Markdown report: %v", err)
	}
	md := string(raw)
	if n := strings.Count(md, "```mermaid\n"); n != 1 {
		t.Fatalf("%d mermaid blocks in the Markdown report, want 1:\n%s", n, md)
	}
	block := md[strings.Index(md, "```mermaid\n")+len("```mermaid\n"):]
	end := strings.Index(block, "\n```\n")
	if end < 0 {
		t.Fatalf("the mermaid block is not closed:\n%s", md)
	}
	lines := strings.Split(block[:end], "\n")
	t.Logf("rollout diagram:\n%s", block[:end])
	if lines[0] != "sequenceDiagram" {
		t.Errorf("the diagram starts with %q, want sequenceDiagram", lines[0])
	}
	lane := ""
	var last time.Duration
	var story []string // which milestones the lane shows, in order
	for _, l := range lines[1:] {
		if m := diagramParticipant.FindStringSubmatch(l); m != nil {
			if m[2] == ref {
				lane = m[1]
			}
			continue
		}
		m := diagramStep.FindStringSubmatch(l)
		ours := strings.NewReplacer("<br/>", "", "->>", "").Replace(l) // our line break and arrow
		if m == nil || strings.ContainsAny(ours, "#;%`\"{}[]$&<>") {
			t.Errorf("a diagram line that is not one of our statements: %q", l)
			continue
		}
		var at time.Duration
		if m[1] != "" {
			f, _ := strconv.ParseFloat(m[1], 64)
			at = time.Duration(f * float64(time.Second))
		} else {
			mins, _ := strconv.Atoi(m[2])
			secs, _ := strconv.Atoi(m[3])
			at = time.Duration(mins)*time.Minute + time.Duration(secs)*time.Second
		}
		if at+time.Second < last { // the labels round: +59.9s may come before +1m0s
			t.Errorf("time goes back at %q", l)
		}
		last = max(last, at)
		if lane == "" || !strings.Contains(l, " "+lane+":") && !strings.Contains(l, lane+"->>") && !strings.Contains(l, "->>"+lane+":") {
			continue
		}
		for _, s := range []struct{ what, says string }{
			{"rollout", "rollout of revision 2 began"}, {"pods", " created"}, {"crash", "💥"},
			{"verdict", "❌ failed, CrashLoopBackOff"}, {"rollback", "↩️ roll back to revision 1"}, {"healthy again", "✅ healthy again"},
		} {
			if strings.Contains(l, s.says) {
				story = append(story, s.what)
			}
		}
	}
	if lane == "" {
		t.Fatalf("no lane for %s in the diagram", ref)
	}
	// A lane may show several runs of pods and crashes; the story is the first of each, in order.
	var firsts []string
	for _, s := range story {
		if !slices.Contains(firsts, s) {
			firsts = append(firsts, s)
		}
	}
	if want := "rollout pods crash verdict rollback healthy again"; strings.Join(firsts, " ") != want {
		t.Errorf("the lane of %s shows %q, want %q", ref, strings.Join(firsts, " "), want)
	}
	w := run.workload(t, ref)
	kinds := map[report.MomentKind]bool{}
	for _, m := range w.Timeline {
		kinds[m.Kind] = true
	}
	for _, k := range []report.MomentKind{report.MomentRollout, report.MomentPod, report.MomentCrash, report.MomentVerdict, report.MomentRollback, report.MomentRollbackEnd} {
		if !kinds[k] {
			t.Errorf("the JSON timeline of %s has no %q moment: %+v", ref, k, w.Timeline)
		}
	}
}

func hasChange(cs []report.Change, pathSuffix, before, after string) bool {
	return slices.ContainsFunc(cs, func(c report.Change) bool {
		return strings.HasSuffix(c.Path, pathSuffix) && c.Before == before && c.After == after
	})
}

// sameTemplate fails the test unless the live template is want again: the container's args and
// env first (the clearest message), then the whole template.
func sameTemplate(t *testing.T, what string, got, want corev1.PodTemplateSpec) {
	t.Helper()
	g, w := got.Spec.Containers[0], want.Spec.Containers[0]
	if !slices.Equal(g.Args, w.Args) || !apiequality.Semantic.DeepEqual(g.Env, w.Env) {
		t.Errorf("%s: live container args %q env %v, want %q %v", what, g.Args, g.Env, w.Args, w.Env)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s: the live pod template differs from the expected one:\ngot  %+v\nwant %+v", what, got, want)
	}
}

func TestRollbackDeploymentRestoresV1(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	framework.Apply(t, c, deploymentAt(ns, "api", 2, 1))
	// A healthy neighbour gated in the same run: the report draws the rollout diagram only for
	// several workloads.
	framework.Apply(t, c, deploymentAt(ns, "worker", 1, 1))
	v1 := framework.WaitForDeploymentAvailable(t, c, ns, "api", 2*time.Minute).Spec.Template
	framework.WaitForDeploymentAvailable(t, c, ns, "worker", 2*time.Minute)
	v1RS := replicaSetWithRevision(t, c, ns, "api", "1")

	framework.Apply(t, c, deploymentAt(ns, "api", 2, 2))

	markdown := filepath.Join(t.TempDir(), "report.md")
	run := runGate(t, rollbackArgs(ns, "deployment/api", "--workload", "deployment/worker", "--report-markdown", markdown)...)
	rolledBack(t, run, "deployment/api")
	wantRolloutDiagram(t, run, markdown, "deployment/api")

	live, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment after the rollback: %v", err)
	}
	sameTemplate(t, "deployment/api", live.Spec.Template, v1)
	if !framework.DeploymentAvailable(live) {
		t.Errorf("the gate said healthy again, but deployment/api is not available: %+v", live.Status)
	}
	// kubectl undo re-activates the v1 ReplicaSet itself, under the next revision number.
	rs := replicaSetWithRevision(t, c, ns, "api", "3")
	if rs.UID != v1RS.UID {
		t.Errorf("revision 3 is ReplicaSet %s, want v1's %s brought back", rs.Name, v1RS.Name)
	}
	if got := live.Annotations[workload.RevisionAnnotation]; got != "3" {
		t.Errorf("deployment revision %q after the undo, want 3", got)
	}
	if pods := readyPodsOf(t, c, ns, "api", appsv1.DefaultDeploymentUniqueLabelKey, v1RS.Labels[appsv1.DefaultDeploymentUniqueLabelKey]); len(pods) != 2 {
		t.Errorf("%d live pods, want 2", len(pods))
	}
}

// TestRollbackStatefulSetReleasesStuckPod is kubernetes#67250: under OrderedReady, after an undo
// the controller waits forever for the crash-looping pod of the failed revision to become ready.
// The gate must delete it so the controller recreates it at v1, and leave the healthy pod alone.
func TestRollbackStatefulSetReleasesStuckPod(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	framework.Apply(t, c, statefulSetAt(ns, "db", 2, 1))
	ready := framework.WaitForStatefulSetReady(t, c, ns, "db", 3*time.Minute)
	v1, v1Hash := ready.Spec.Template, ready.Status.CurrentRevision
	if ready.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement || ready.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		t.Fatalf("statefulset defaults %s/%s, want OrderedReady/RollingUpdate: this test is about that trap", ready.Spec.PodManagementPolicy, ready.Spec.UpdateStrategy.Type)
	}
	db0 := podUID(t, c, ns, "db-0")

	framework.Apply(t, c, statefulSetAt(ns, "db", 2, 2))

	run := runGate(t, rollbackArgs(ns, "statefulset/db")...)
	rb := rolledBack(t, run, "statefulset/db")
	// The rolling update goes from the highest ordinal down: db-1 runs v2 and crash-loops.
	if !slices.Equal(rb.DeletedPods, []string{"db-1"}) {
		t.Errorf("deletedPods %q, want [db-1]: the stuck v2 pod must be deleted (kubernetes#67250)", rb.DeletedPods)
	}
	if !strings.Contains(rb.Message, "67250") {
		t.Errorf("rollback message %q does not say why a pod was deleted", rb.Message)
	}

	live, err := c.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get statefulset after the rollback: %v", err)
	}
	sameTemplate(t, "statefulset/db", live.Spec.Template, v1)
	st := live.Status
	if st.UpdateRevision != v1Hash || st.CurrentRevision != v1Hash || st.ReadyReplicas != 2 || st.UpdatedReplicas != 2 {
		t.Errorf("statefulset status current %s update %s ready %d updated %d, want both revisions %s and 2/2",
			st.CurrentRevision, st.UpdateRevision, st.ReadyReplicas, st.UpdatedReplicas, v1Hash)
	}
	pods := readyPodsOf(t, c, ns, "db", appsv1.ControllerRevisionHashLabelKey, v1Hash)
	if len(pods) != 2 {
		t.Errorf("%d live pods, want 2", len(pods))
	}
	for _, p := range pods {
		if p.Name == "db-0" && p.UID != db0 {
			t.Errorf("db-0 was replaced although it stayed healthy on v1")
		}
	}
}

func TestRollbackDaemonSetRestoresV1(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	framework.Apply(t, c, daemonSetAt(ns, "agent", 1))
	v1 := framework.WaitForDaemonSetReady(t, c, ns, "agent", 2*time.Minute).Spec.Template
	v1Pods := activePods(t, c, ns, "agent")
	if len(v1Pods) != 1 {
		t.Fatalf("%d v1 pods on the single node, want 1", len(v1Pods))
	}
	v1Hash := v1Pods[0].Labels[appsv1.ControllerRevisionHashLabelKey]

	framework.Apply(t, c, daemonSetAt(ns, "agent", 2))

	run := runGate(t, rollbackArgs(ns, "daemonset/agent")...)
	rolledBack(t, run, "daemonset/agent")

	live, err := c.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get daemonset after the rollback: %v", err)
	}
	sameTemplate(t, "daemonset/agent", live.Spec.Template, v1)
	if st := live.Status; st.ObservedGeneration < live.Generation || st.DesiredNumberScheduled != 1 ||
		st.UpdatedNumberScheduled != 1 || st.NumberAvailable != 1 {
		t.Errorf("daemonset status %+v, want its one pod updated and available", st)
	}
	readyPodsOf(t, c, ns, "agent", appsv1.ControllerRevisionHashLabelKey, v1Hash)
}

func TestRollbackFirstDeployHasNothingToRollBackTo(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	framework.Apply(t, c, deploymentAt(ns, "fresh", 1, 2))
	before := replicaSetWithRevision(t, c, ns, "fresh", "1")

	run := runGate(t, rollbackArgs(ns, "deployment/fresh")...)
	rb := failedWithRollback(t, run, "deployment/fresh")
	if rb.Status != report.RollbackSkipped || rb.Undone || run.Report.RolledBack || rb.ToRevision != "" {
		t.Errorf("rollback %s undone %v (report.rolledBack %v) to %q, want skipped, nothing undone, no target revision",
			rb.Status, rb.Undone, run.Report.RolledBack, rb.ToRevision)
	}
	if !strings.Contains(rb.Message, "no previous revision") || !strings.Contains(rb.Message, "nothing was changed") {
		t.Errorf("rollback message %q must say there is no previous revision and nothing was changed", rb.Message)
	}

	live, err := c.AppsV1().Deployments(ns).Get(ctx, "fresh", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	if live.Generation != 1 || live.Spec.Template.Spec.Containers[0].Env[0].Value != "abc" {
		t.Errorf("deployment changed: generation %d env %v, want generation 1 still running v2", live.Generation, live.Spec.Template.Spec.Containers[0].Env)
	}
	if rss := ownedReplicaSets(t, c, ns, "fresh"); len(rss) != 1 || rss[0].UID != before.UID {
		t.Errorf("%d ReplicaSets after the gate, want only the first one", len(rss))
	}
}

func TestRollbackDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	brokenRelease(t, c, ns, "api")
	v2, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment: %v", err)
	}

	run := runGate(t, rollbackArgs(ns, "deployment/api", "--dry-run")...)
	rb := failedWithRollback(t, run, "deployment/api")
	if rb.Status != report.RollbackDryRun || rb.Undone || run.Report.RolledBack || rb.FromRevision != "2" || rb.ToRevision != "1" {
		t.Errorf("rollback %s undone %v (report.rolledBack %v) from %q to %q, want dry-run from 2 to 1 with nothing undone",
			rb.Status, rb.Undone, run.Report.RolledBack, rb.FromRevision, rb.ToRevision)
	}
	if !strings.Contains(rb.Message, "would roll back") || !strings.Contains(rb.Message, "nothing was changed") {
		t.Errorf("dry-run message %q must say what would happen and that nothing was changed", rb.Message)
	}
	if !hasChange(rb.Changes, "env[DATABASE_PORT]", `"abc"`, `"5432"`) {
		t.Errorf("dry-run changes %+v do not show DATABASE_PORT going from abc back to 5432", rb.Changes)
	}

	live, err := c.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	sameTemplate(t, "deployment/api after a dry run", live.Spec.Template, v2.Spec.Template)
	if live.Generation != v2.Generation || live.Annotations[workload.RevisionAnnotation] != "2" {
		t.Errorf("generation %d revision %q after a dry run, want %d and 2 unchanged",
			live.Generation, live.Annotations[workload.RevisionAnnotation], v2.Generation)
	}
}

// replicaSetWithRevision waits for the Deployment's ReplicaSet of a revision (the controller
// writes the annotation when it creates or re-activates the ReplicaSet).
func replicaSetWithRevision(t *testing.T, c kubernetes.Interface, ns, deploy, rev string) appsv1.ReplicaSet {
	t.Helper()
	var found appsv1.ReplicaSet
	framework.WaitFor(t, time.Minute, fmt.Sprintf("ReplicaSet of deployment %s/%s at revision %s", ns, deploy, rev), func(ctx context.Context) (bool, error) {
		for _, rs := range ownedReplicaSets(t, c, ns, deploy) {
			if rs.Annotations[workload.RevisionAnnotation] == rev {
				found = rs
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

func ownedReplicaSets(t *testing.T, c kubernetes.Interface, ns, deploy string) []appsv1.ReplicaSet {
	t.Helper()
	list, err := c.AppsV1().ReplicaSets(ns).List(t.Context(), metav1.ListOptions{LabelSelector: framework.Selector(deploy)})
	if err != nil {
		t.Fatalf("list ReplicaSets: %v", err)
	}
	return slices.DeleteFunc(list.Items, func(rs appsv1.ReplicaSet) bool {
		ref := metav1.GetControllerOf(&rs)
		return ref == nil || ref.Kind != "Deployment" || ref.Name != deploy
	})
}

// activePods lists the workload's pods that are not being deleted.
func activePods(t *testing.T, c kubernetes.Interface, ns, name string) []corev1.Pod {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: framework.Selector(name)})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	return slices.DeleteFunc(list.Items, func(p corev1.Pod) bool { return p.DeletionTimestamp != nil })
}

// readyPodsOf returns the workload's live pods, and fails the test unless each is ready and
// carries label key=value, the revision it must run after the rollback.
func readyPodsOf(t *testing.T, c kubernetes.Interface, ns, name, key, value string) []corev1.Pod {
	t.Helper()
	pods := activePods(t, c, ns, name)
	for _, p := range pods {
		if got, ready := p.Labels[key], workload.PodReady(&p); got != value || !ready {
			t.Errorf("pod %s (%s %s, ready %v) is not a ready v1 pod (%s)", p.Name, key, got, ready, value)
		}
	}
	return pods
}

func podUID(t *testing.T, c kubernetes.Interface, ns, name string) types.UID {
	t.Helper()
	p, err := c.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p.UID
}
