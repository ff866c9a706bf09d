package watch

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// webDeployment is the second workload twoRollouts builds, still starting.
var webDeployment = target.Target{Kind: target.Deployment, Namespace: "prod", Name: "web"}

// renamed is rollout() for another Deployment: its own name, uid, labels and owners.
func renamed(name string) (*appsv1.Deployment, *appsv1.ReplicaSet, *corev1.Pod) {
	d, rs, pod, _ := rollout()
	labels := map[string]string{"app": name, "pod-template-hash": "new"}
	d.Name, d.UID = name, types.UID(name+"-uid")
	d.Spec.Selector.MatchLabels = map[string]string{"app": name}
	d.Spec.Template.Labels = map[string]string{"app": name}
	rs.Name, rs.UID, rs.Labels = name+"-new", types.UID(name+"-rs"), labels
	rs.Spec.Template.Labels = labels
	rs.OwnerReferences[0].Name, rs.OwnerReferences[0].UID = d.Name, d.UID
	pod.Name, pod.Labels = name+"-new-x", labels
	pod.OwnerReferences[0].Name, pod.OwnerReferences[0].UID = rs.Name, rs.UID
	return d, rs, pod
}

// twoRollouts is deployment/api crash-looping on its first crash and deployment/web still starting
// (its pod running, not ready).
func twoRollouts() (objs []runtime.Object, web *appsv1.Deployment, webPod *corev1.Pod) {
	d, rs, pod, _ := rollout()
	pod.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 1,
		State: waiting("CrashLoopBackOff", "back-off 10s"), LastTerminationState: terminated(1, "Error")}
	web, webRS, webPod := renamed("web")
	web.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1}
	return []runtime.Object{d, rs, pod, web, webRS, webPod}, web, webPod
}

func TestFirstFailureInterruptsTheOthers(t *testing.T) {
	t.Parallel()
	objs, _, _ := twoRollouts()
	w := &Watcher{Client: kubetest.Client(objs...), Policy: Policy{CrashTolerance: 0, PendingGrace: time.Minute}, Timeout: time.Minute}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment, webDeployment})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("got %d results, want 2", len(res))
	}
	if res[0].Verdict != report.VerdictFailed || res[0].Reason != "CrashLoopBackOff" {
		t.Errorf("api: %s %s, want failed CrashLoopBackOff", res[0].Verdict, res[0].Reason)
	}
	web := res[1]
	if web.Verdict != report.VerdictInterrupted || web.Reason != "Interrupted" {
		t.Fatalf("web: %s %s %q, want interrupted", web.Verdict, web.Reason, web.Message)
	}
	for _, want := range []string{"deployment/api failed", "state then: 1/1 updated, 0/1 available"} {
		if !strings.Contains(web.Message, want) {
			t.Errorf("web message %q lacks %q", web.Message, want)
		}
	}
	if web.Revision != "2" || len(web.Pods) != 1 || web.Pods[0].Name != "web-new-x" || web.Object == nil {
		t.Errorf("web: revision %q pods %d object %v: want its state at the moment of the interruption", web.Revision, len(web.Pods), web.Object != nil)
	}
}

func TestWaitAllJudgesEveryWorkloadToTheEnd(t *testing.T) {
	t.Parallel()
	objs, web, webPod := twoRollouts()
	client := fake.NewSimpleClientset(objs...)
	progress := newSyncWriter()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: Policy{CrashTolerance: 0, PendingGrace: time.Minute}, Timeout: time.Minute,
		WaitAll: true, Progress: progress}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make(chan outcome, 1)
	go func() {
		res, err := w.Watch(ctx, []target.Target{apiDeployment, webDeployment})
		out <- outcome{res, err}
	}()
	// api has failed by now (it is judged in the same pass); web keeps being watched.
	waitLine(t, progress.lines, "deployment/web: 1/1 updated, 0/1 available")

	ready := webPod.DeepCopy()
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	ready.Status.ContainerStatuses[0].Ready = true
	if _, err := client.CoreV1().Pods("prod").UpdateStatus(ctx, ready, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := web.DeepCopy()
	done.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	if _, err := client.AppsV1().Deployments("prod").UpdateStatus(ctx, done, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := waitResults(t, out)
	if len(res) != 2 || res[0].Verdict != report.VerdictFailed || res[1].Verdict != report.VerdictHealthy {
		t.Fatalf("results = %+v, want api failed and web healthy", res)
	}
}

func TestTimeoutDoesNotInterrupt(t *testing.T) {
	t.Parallel()
	// Two slow rollouts: a timeout ends the watch for both, neither is interrupted.
	d, rs, pod, _ := rollout()
	web, webRS, webPod := renamed("web")
	w := &Watcher{Client: kubetest.Client(d, rs, pod, web, webRS, webPod), Policy: DefaultPolicy(), Timeout: 2 * time.Second}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment, webDeployment})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Verdict != report.VerdictTimeout {
			t.Errorf("%s: %s, want timeout", r.Workload.Ref(), r.Verdict)
		}
	}
}

// TestOwnTimeoutInterruptsTheOthers: a workload past its own rollout-gate.io/timeout fails the run,
// so it ends the watch as a failure does.
func TestOwnTimeoutInterruptsTheOthers(t *testing.T) {
	t.Parallel()
	d, rs, pod, _ := rollout()
	d.Annotations = map[string]string{workload.AnnotationTimeout: "1s"}
	web, webRS, webPod := renamed("web")
	w := &Watcher{Client: kubetest.Client(d, rs, pod, web, webRS, webPod), Policy: DefaultPolicy(), Timeout: time.Minute}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment, webDeployment})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Verdict != report.VerdictTimeout || res[1].Verdict != report.VerdictInterrupted ||
		!strings.Contains(res[1].Message, "deployment/api timed out") {
		t.Errorf("api %s, web %s %q: want api timed out by its own timeout and web interrupted by it", res[0].Verdict, res[1].Verdict, res[1].Message)
	}
}
