package watch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
)

// syncWriter collects progress lines from the watch goroutine.
type syncWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	lines chan string
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		select {
		case w.lines <- l:
		default:
		}
	}
	return len(p), nil
}

// newSyncWriter collects up to 100 progress lines that no test has waited for yet.
func newSyncWriter() *syncWriter { return &syncWriter{lines: make(chan string, 100)} }

// rollout builds a Deployment mid-rollout: its new ReplicaSet and one pod of it, plus one pod of
// an old ReplicaSet that is crash-looping (old pods must never be judged).
func rollout() (*appsv1.Deployment, *appsv1.ReplicaSet, *corev1.Pod, *corev1.Pod) {
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "api:v2"}}},
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod", UID: "dep-uid", Generation: 2},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), Template: tmpl,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1},
	}
	ctrl := func(kind, name string, uid types.UID) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptr(true)}}
	}
	newTmpl := tmpl.DeepCopy()
	newTmpl.Labels["pod-template-hash"] = "new"
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-new", Namespace: "prod", UID: "rs-new", Labels: newTmpl.Labels,
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}, OwnerReferences: ctrl("Deployment", "api", d.UID)},
		Spec: appsv1.ReplicaSetSpec{Template: *newTmpl},
	}
	oldTmpl := tmpl.DeepCopy()
	oldTmpl.Labels["pod-template-hash"] = "old"
	oldTmpl.Spec.Containers[0].Image = "api:v1"
	oldRS := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-old", Namespace: "prod", UID: "rs-old", Labels: oldTmpl.Labels,
			OwnerReferences: ctrl("Deployment", "api", d.UID)},
		Spec: appsv1.ReplicaSetSpec{Template: *oldTmpl},
	}
	newPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-new-x", Namespace: "prod", Labels: newTmpl.Labels,
		OwnerReferences: ctrl("ReplicaSet", "api-new", rs.UID)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "api", State: running}}}}
	oldPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-old-y", Namespace: "prod", Labels: oldTmpl.Labels,
		OwnerReferences: ctrl("ReplicaSet", "api-old", oldRS.UID)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "api", RestartCount: 9,
			State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}}}}
	return d, rs, newPod, oldPod
}

// TestWatchFailsOnCrashLoopOfNewPodsOnly: a crash loop of the new revision's pod fails the
// rollout as soon as the pod's status says so, whatever the ReplicaSet is called (an adopted one
// does not carry its Deployment's name), and the old revision's crash loop never counts.
func TestWatchFailsOnCrashLoopOfNewPodsOnly(t *testing.T) {
	t.Parallel()
	for _, rsName := range []string{"api-new", "adopted"} {
		t.Run("ReplicaSet "+rsName, func(t *testing.T) {
			t.Parallel()
			d, rs, newPod, oldPod := rollout()
			rs.Name, newPod.OwnerReferences[0].Name = rsName, rsName
			oldRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-old", Namespace: "prod", UID: "rs-old"}}
			// The caches keep lean pods; the diagnosis gets the whole pod, read again at the verdict.
			newPod.UID, newPod.Spec.Volumes = "pod-new", []corev1.Volume{{Name: "config"}}
			client := fake.NewSimpleClientset(d, rs, oldRS, newPod, oldPod)
			progress := newSyncWriter()
			w := &Watcher{Client: kubetest.Wrap(client), Policy: Policy{CrashTolerance: 1, PendingGrace: time.Minute}, Timeout: time.Minute, Progress: progress}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := watchInBackground(ctx, w, nil)
			// Wait until the watch has judged the first state (the old pod's crash loop must not count).
			waitLine(t, progress.lines, "deployment/api: 1/1 updated, 0 available of which 1 old pending termination")

			crashed := newPod.DeepCopy()
			crashed.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 1,
				State: waiting("CrashLoopBackOff", "back-off 10s"), LastTerminationState: terminated(1, "Error")}
			if _, err := client.CoreV1().Pods("prod").UpdateStatus(ctx, crashed, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			res := waitResults(t, out)
			if len(res) != 1 {
				t.Fatalf("%d results, want one", len(res))
			}
			if res[0].Verdict != report.VerdictFailed || res[0].Reason != "CrashLoopBackOff" {
				t.Fatalf("result %s %s %q, want failed CrashLoopBackOff", res[0].Verdict, res[0].Reason, res[0].Message)
			}
			if res[0].Revision != "2" || len(res[0].Pods) != 1 || res[0].Pods[0].Name != "api-new-x" {
				t.Fatalf("revision %q pods %v: want revision 2 and only the new pod", res[0].Revision, res[0].Pods)
			}
			if p := res[0].Pods[0]; len(p.Spec.Volumes) != 1 || p.Status.ContainerStatuses[0].RestartCount != 1 {
				t.Errorf("pod for the diagnosis: volumes %v, statuses %v; want the whole pod in its crashed state", p.Spec.Volumes, p.Status.ContainerStatuses)
			}
			if strings.Contains(progress.b.String(), "api-old-y") {
				t.Errorf("progress mentions the old pod:\n%s", progress.b.String())
			}
		})
	}
}

func TestWatchTimeoutSaysWhy(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	w := &Watcher{Client: kubetest.Client(d, rs, newPod), Policy: DefaultPolicy(), Timeout: 2 * time.Second}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Verdict != report.VerdictTimeout || res[0].Reason != "NotReady" || !strings.Contains(res[0].Message, "running but not ready: [api-new-x]") {
		t.Fatalf("result = %s %s %q, want timeout NotReady naming the pod", res[0].Verdict, res[0].Reason, res[0].Message)
	}
}

func TestWatchDeletedWorkloadFails(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	client := fake.NewSimpleClientset(d, rs, newPod)
	progress := newSyncWriter()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Minute, Progress: progress}
	out := watchInBackground(context.Background(), w, nil)
	waitLine(t, progress.lines, "deployment/api:")
	if err := client.AppsV1().Deployments("prod").Delete(context.Background(), "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res := waitResults(t, out)
	if res[0].Verdict != report.VerdictFailed || res[0].Reason != "Deleted" {
		t.Fatalf("result = %s %s, want failed Deleted", res[0].Verdict, res[0].Reason)
	}
}

// apiDeployment is the workload rollout() builds.
var apiDeployment = target.Target{Kind: target.Deployment, Namespace: "prod", Name: "api"}

// outcome is what a watch run in the background returned.
type outcome struct {
	res []Result
	err error
}

// watchInBackground watches apiDeployment (known to have reached minGeneration, if given) and
// returns where its outcome arrives.
func watchInBackground(ctx context.Context, w *Watcher, minGeneration map[string]int64) <-chan outcome {
	out := make(chan outcome, 1)
	go func() {
		if minGeneration == nil {
			res, err := w.Watch(ctx, []target.Target{apiDeployment})
			out <- outcome{res, err}
			return
		}
		res, err := w.watch(ctx, []target.Target{apiDeployment}, minGeneration)
		out <- outcome{res, err}
	}()
	return out
}

// waitResults waits for the outcome of a watch run in the background and stops the test on its error.
func waitResults(t *testing.T, out <-chan outcome) []Result {
	t.Helper()
	o := <-out
	if o.err != nil {
		t.Fatalf("Watch: %v", o.err)
	}
	return o.res
}

func waitLine(t *testing.T, lines <-chan string, prefix string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no progress line starting %q", prefix)
		}
	}
}

func TestWatchIgnoresStatesOlderThanTheKnownGeneration(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	// The cache shows the failed revision still crash-looping at generation 2, while the undo
	// has already produced generation 3.
	newPod.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 3,
		State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}
	client := fake.NewSimpleClientset(d, rs, newPod)
	progress := newSyncWriter()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: Policy{CrashTolerance: 1}, Timeout: time.Minute, Progress: progress}
	out := watchInBackground(context.Background(), w, map[string]int64{apiDeployment.Key(): 3})
	waitLine(t, progress.lines, "deployment/api: waiting for generation 3")

	// The rolled-back state arrives: generation 3, observed and complete.
	undone := d.DeepCopy()
	undone.Generation = 3
	undone.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	if _, err := client.AppsV1().Deployments("prod").Update(context.Background(), undone, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := waitResults(t, out)
	// The verdict is on generation 3: its pod is still crash-looping in the cache, so it fails,
	// but only once generation 3 is seen; before that, nothing about the pods is said.
	if res[0].Verdict != report.VerdictFailed || res[0].Reason != "CrashLoopBackOff" {
		t.Fatalf("verdict %s %s, want failed CrashLoopBackOff on generation 3", res[0].Verdict, res[0].Reason)
	}
	if gen := res[0].Object.(*appsv1.Deployment).Generation; gen != 3 {
		t.Errorf("judged generation %d, want 3", gen)
	}
	lines := strings.Split(strings.TrimSpace(progress.b.String()), "\n")
	if !strings.HasPrefix(lines[0], "deployment/api: waiting for generation 3") {
		t.Errorf("the stale generation was judged before generation 3 was seen:\n%s", progress.b.String())
	}
}

func TestOutageMeasuresOneRunOfFailures(t *testing.T) {
	t.Parallel()
	o := &outage{}
	steps := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0},
		{10 * time.Second, 10 * time.Second},
		{40 * time.Second, 40 * time.Second}, // 30 s apart: the reflector's back-off, same outage
		{100 * time.Second, 0},               // a minute of quiet: a new outage
		{101 * time.Second, time.Second},
	}
	for _, s := range steps {
		if got := o.failed(t0.Add(s.at)); got != s.want {
			t.Errorf("failure at +%s: outage %s, want %s", s.at, got, s.want)
		}
	}
}

// TestWatchResumesAfterADroppedWatch closes the pod watch under the gate (as a dropped
// connection or an expired resourceVersion does) and changes the pod while no watch is open: the
// reflector must list again, and the crash it missed must still fail the rollout. (Whether the
// reflector opens its next watch before the verdict ends the run is a race, so the relist is
// what is counted.)
func TestWatchResumesAfterADroppedWatch(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	client := fake.NewSimpleClientset(d, rs, newPod)
	// The crash happens while the watch is down: only a relist can bring it.
	out, lists := crashWhileTheWatchIsDown(t, client, newPod, corev1.ContainerStatus{Name: "api", RestartCount: 1,
		State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")},
		(*watch.FakeWatcher).Stop) // the server drops the watch

	var res []Result
	select {
	case o := <-out:
		if o.err != nil {
			t.Fatal(o.err)
		}
		res = o.res
	case <-time.After(20 * time.Second):
		t.Fatal("no verdict after the watch was dropped: the crash was lost")
	}
	if res[0].Verdict != report.VerdictFailed || res[0].Reason != "CrashLoopBackOff" {
		t.Fatalf("verdict %s %s, want failed CrashLoopBackOff", res[0].Verdict, res[0].Reason)
	}
	if listsBefore, podLists := lists(); podLists <= listsBefore {
		t.Errorf("pods were listed %d times before the drop and %d after it: want a relist after the drop", listsBefore, podLists)
	}
}

// crashWhileTheWatchIsDown starts the gate (one crash tolerated) on the rollout() objects in
// client, with the pod watches fakes it holds; once the gate has begun it writes pod with crash,
// its container's status after crashes of which no event reaches the gate, and ends the first pod
// watch with end. It
// returns where the outcome arrives, and lists, which tells how many times the pods were listed
// before end and in all: a dropped watch and one ended by 410 Gone differ only in end.
func crashWhileTheWatchIsDown(t *testing.T, client *fake.Clientset, pod *corev1.Pod, crash corev1.ContainerStatus, end func(*watch.FakeWatcher)) (<-chan outcome, func() (before, all int)) {
	t.Helper()
	var mu sync.Mutex
	var podWatches []*watch.FakeWatcher
	podLists := 0
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		podLists++
		return false, nil, nil
	})
	client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		w := watch.NewFakeWithChanSize(10, false)
		podWatches = append(podWatches, w)
		return true, w, nil
	})
	progress := newSyncWriter()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: Policy{CrashTolerance: 1, PendingGrace: time.Minute}, Timeout: time.Minute, Progress: progress}
	out := watchInBackground(context.Background(), w, nil)
	waitLine(t, progress.lines, "deployment/api:")

	crashed := pod.DeepCopy()
	crashed.Status.ContainerStatuses[0] = crash
	if err := client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), crashed, "prod"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	first, listsBefore := podWatches[0], podLists
	mu.Unlock()
	end(first)
	return out, func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return listsBefore, podLists
	}
}

// forbiddenWatch watches wl on a client that refuses a request the watch needs, and returns the
// error it must end with, which must contain every one of wants.
func forbiddenWatch(t *testing.T, client *fake.Clientset, wl target.Target, wants ...string) error {
	t.Helper()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Minute}
	_, err := w.Watch(context.Background(), []target.Target{wl})
	if err == nil {
		t.Fatalf("a forbidden request must end the watch of %s with an error", wl.Key())
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	return err
}

// TestForbiddenWatchNamesItsResource: a watch the API server refuses after the access checks
// passed (a Role changed under the gate) must name the rule for the resource that was watched.
func TestForbiddenWatchNamesItsResource(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	client := fake.NewSimpleClientset(d, rs, newPod)
	client.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(appsv1.Resource("deployments"), "", errors.New(`User "ci" cannot watch resource "deployments"`))
	})
	err := forbiddenWatch(t, client, apiDeployment, "watch deployments.apps -n prod: forbidden", "apiGroups: [apps]", "resources: [deployments]", "verbs: [watch]")
	if fault.Code(err) != fault.ExitCannotEvaluate {
		t.Errorf("exit code %d, want %d", fault.Code(err), fault.ExitCannotEvaluate)
	}
}

// TestWatchTimeoutCutsTheSoakShort: --timeout bounds the probe-aware soak. A complete rollout whose
// only wait is a liveness window is healthy at the deadline, and says the soak was cut short; one
// whose liveness probe is failing is not.
func TestWatchTimeoutCutsTheSoakShort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failing     bool
		wantVerdict report.Verdict
		wantMsg     string
	}{
		{name: "quiet", wantVerdict: report.VerdictHealthy, wantMsg: "the soak was cut short by --timeout"},
		{name: "liveness failing", failing: true, wantVerdict: report.VerdictTimeout, wantMsg: "probe failing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, rs, newPod, _ := rollout()
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
			now := time.Now()
			newPod.UID = "pod-uid"
			newPod.Spec.Containers = []corev1.Container{{Name: "api", LivenessProbe: &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3, TimeoutSeconds: 1}}}
			newPod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			newPod.Status.ContainerStatuses[0].Ready = true
			newPod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}
			objs := []runtime.Object{d, rs, newPod}
			if tt.failing {
				objs = append(objs, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "api.unhealthy", Namespace: "prod"},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "prod", Name: newPod.Name, UID: newPod.UID, FieldPath: "spec.containers{api}"},
					Reason:         "Unhealthy", Type: corev1.EventTypeWarning, Message: "Liveness probe failed: connection refused", LastTimestamp: metav1.NewTime(now)})
			}
			w := &Watcher{Client: kubetest.Client(objs...), Policy: DefaultPolicy(), Timeout: 2 * time.Second}
			res, err := w.Watch(context.Background(), []target.Target{{Kind: target.Deployment, Namespace: "prod", Name: "api"}})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Verdict != tt.wantVerdict || !strings.Contains(res[0].Message, tt.wantMsg) {
				t.Fatalf("result = %s %s %q, want %s saying %q", res[0].Verdict, res[0].Reason, res[0].Message, tt.wantVerdict, tt.wantMsg)
			}
		})
	}
}
