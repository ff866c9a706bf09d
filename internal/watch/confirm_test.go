package watch

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
)

// offsetClock is the gate's clock in these tests: real time, which the informers and the watch
// loop's timers run on, plus an offset a test moves forward to stand for seconds of silence.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// soakedRollout is rollout() complete: its one new pod Ready on node n1, whose kubelet renewed
// its Lease at renewed.
func soakedRollout(renewed time.Time) (*fake.Clientset, *corev1.Pod, *coordinationv1.Lease) {
	d, rs, newPod, _ := rollout()
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	newPod.UID, newPod.Spec.NodeName = "pod-uid", "n1"
	newPod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	newPod.Status.ContainerStatuses[0].Ready = true
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: leaseNamespace},
		Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr(int32(40)), RenewTime: &metav1.MicroTime{Time: renewed}}}
	return fake.NewClientset(d, rs, newPod, l), newPod, l
}

func renewLease(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, at time.Time) {
	t.Helper()
	l = l.DeepCopy()
	l.Spec.RenewTime = &metav1.MicroTime{Time: at}
	if _, err := c.CoordinationV1().Leases(leaseNamespace).Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// soakInBackground starts the gate on c with a one-second soak, --timeout timeout and clk for its
// clock, and returns where the outcome arrives and the progress, once the gate has said prefix:
// the soak tests differ in what the cluster does from there.
func soakInBackground(t *testing.T, c *fake.Clientset, clk *offsetClock, timeout time.Duration, prefix string) (<-chan outcome, *syncWriter) {
	t.Helper()
	progress := newSyncWriter()
	p := DefaultPolicy()
	p.Soak = time.Second
	w := &Watcher{Client: kubetest.Wrap(c), Policy: p, Timeout: timeout, Progress: progress, Now: clk.now}
	out := watchInBackground(context.Background(), w, nil)
	waitLine(t, progress.lines, prefix)
	return out, progress
}

// backAfterASilence has the kubelet of n1 silent for 30 s, then renew its Lease, and waits for
// the soak to go on: the silence is left out of the soak.
func backAfterASilence(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, clk *offsetClock, lines <-chan string) {
	t.Helper()
	clk.jump(30 * time.Second)
	renewLease(t, c, l, clk.now())
	waitLine(t, lines, "deployment/api: 1/1 updated, 1/1 available; complete, soaking until")
}

// wantView checks that the report's view of res says want: how the gate heard the cluster is
// told there, whatever the verdict.
func wantView(t *testing.T, res Result, want string) {
	t.Helper()
	if view := strings.Join(res.View, "\n"); !strings.Contains(view, want) {
		t.Errorf("view %q does not say %q", view, want)
	}
}

// TestSoakWaitsForTheKubelet: at the soak's end a healthy verdict waits until the kubelet of the
// pod's node renews its Lease, then reads the workload and its pods once to confirm. A kubelet
// that stays silent past --timeout makes the verdict "could not evaluate", never healthy; one
// that comes back after a silence has the soak go on by the silence, and a crash it then reports
// fails the rollout.
func TestSoakWaitsForTheKubelet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		act         func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, pod *corev1.Pod, clk *offsetClock, lines <-chan string)
		wantVerdict report.Verdict
		wantReason  string
		wantMsg     string
		wantView    string
	}{
		{name: "renewed after the soak", wantVerdict: report.VerdictHealthy, wantReason: "Complete",
			act: func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, _ *corev1.Pod, clk *offsetClock, _ <-chan string) {
				renewLease(t, c, l, clk.now())
			}},
		{name: "silent until the timeout", wantVerdict: report.VerdictError, wantReason: "ClusterSilent",
			wantMsg: "nor from the kubelet of node n1",
			act: func(t *testing.T, _ *fake.Clientset, _ *coordinationv1.Lease, _ *corev1.Pod, clk *offsetClock, _ <-chan string) {
				clk.jump(20 * time.Second)
			}},
		{name: "back after a silence, still healthy", wantVerdict: report.VerdictHealthy, wantReason: "Complete",
			wantView: "nothing heard from the kubelet of node n1",
			act: func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, _ *corev1.Pod, clk *offsetClock, lines <-chan string) {
				backAfterASilence(t, c, l, clk, lines)
				// The soak went on for the time the silence took from it, and waits again.
				waitLine(t, lines, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet of node n1")
				renewLease(t, c, l, clk.now())
			}},
		{name: "back after a silence, then a crash", wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff",
			wantView: "nothing heard from the kubelet of node n1",
			act: func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, pod *corev1.Pod, clk *offsetClock, lines <-chan string) {
				backAfterASilence(t, c, l, clk, lines) // no healthy verdict yet
				crashed := pod.DeepCopy()
				crashed.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 2,
					State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}
				if _, err := c.CoreV1().Pods("prod").UpdateStatus(context.Background(), crashed, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &offsetClock{}
			c, pod, l := soakedRollout(clk.now())
			var mu sync.Mutex
			gets := 0
			c.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
				mu.Lock()
				defer mu.Unlock()
				gets++
				return false, nil, nil
			})
			out, progress := soakInBackground(t, c, clk, 5*time.Second, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet of node n1 to renew its Lease")
			tt.act(t, c, l, pod, clk, progress.lines)
			res := waitResults(t, out)[0]
			if res.Verdict != tt.wantVerdict || res.Reason != tt.wantReason || !strings.Contains(res.Message, tt.wantMsg) {
				t.Fatalf("result %s %s %q, want %s %s saying %q\nprogress:\n%s", res.Verdict, res.Reason, res.Message,
					tt.wantVerdict, tt.wantReason, tt.wantMsg, progress.b.String())
			}
			wantView(t, res, tt.wantView)
			mu.Lock()
			defer mu.Unlock()
			if tt.wantVerdict == report.VerdictHealthy && gets != 1 {
				t.Errorf("%d GETs of the deployment, want one confirming read", gets)
			}
		})
	}
}

// TestSoakWaitsForAReportOnTheStart: a container that started a moment ago, with a soak shorter than
// the kubelet may take to report a crash on start: a renewal after the soak is not enough, the
// verdict waits until the kubelet renewed its Lease reportLag after the start (its own clock). A
// crash it reports meanwhile fails the rollout; without one the rollout is healthy then.
func TestSoakWaitsForAReportOnTheStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		act         func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, pod *corev1.Pod, clk *offsetClock)
		wantVerdict report.Verdict
		wantReason  string
	}{
		{name: "the kubelet reports the crash", wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff",
			act: func(t *testing.T, c *fake.Clientset, _ *coordinationv1.Lease, pod *corev1.Pod, _ *offsetClock) {
				crashed := pod.DeepCopy()
				crashed.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 2,
					State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}
				if _, err := c.CoreV1().Pods("prod").UpdateStatus(context.Background(), crashed, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "renewed long enough after the start", wantVerdict: report.VerdictHealthy, wantReason: "Complete",
			act: func(t *testing.T, c *fake.Clientset, l *coordinationv1.Lease, _ *corev1.Pod, clk *offsetClock) {
				clk.jump(reportLag + time.Second)
				renewLease(t, c, l, clk.now())
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &offsetClock{}
			c, pod, l := soakedRollout(clk.now())
			pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(clk.now().Truncate(time.Second))}}
			pod, err := c.CoreV1().Pods("prod").UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, progress := soakInBackground(t, c, clk, 30*time.Second, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet of node n1 to renew its Lease")
			renewLease(t, c, l, clk.now())
			waitLine(t, progress.lines, "deployment/api: 1/1 updated, 1/1 available; soak done, giving the kubelet of node n1 8s after the newest container start to report a crash on start")
			tt.act(t, c, l, pod, clk)
			res := waitResults(t, out)[0]
			if res.Verdict != tt.wantVerdict || res.Reason != tt.wantReason {
				t.Fatalf("result %s %s %q, want %s %s\nprogress:\n%s", res.Verdict, res.Reason, res.Message, tt.wantVerdict, tt.wantReason, progress.b.String())
			}
		})
	}
}

// TestSoakWaitsForAnUnansweredRead: the confirming read is not answered (a frozen API server):
// no healthy verdict, and at --timeout "could not evaluate", saying the read went unanswered.
func TestSoakWaitsForAnUnansweredRead(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	c, _, _ := soakedRollout(clk.now())
	// Without the node's Lease, only the API server is checked.
	if err := c.CoordinationV1().Leases(leaseNamespace).Delete(context.Background(), "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	c.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return false, nil, nil
	})
	out, progress := soakInBackground(t, c, clk, 4*time.Second, "deployment/api: 1/1 updated, 1/1 available; soak done, reading the workload and its pods")
	clk.jump(10 * time.Second)
	res := waitResults(t, out)[0]
	if res.Verdict != report.VerdictError || !strings.Contains(res.Message, "a read went unanswered") {
		t.Fatalf("result %s %s %q, want error saying the read went unanswered\nprogress:\n%s", res.Verdict, res.Reason, res.Message, progress.b.String())
	}
	wantView(t, res, "no Lease in kube-node-lease") // the kubelet of n1 was not checked
}

// TestSoakWaitsForTheWatchToCatchUp: the confirming read shows the pod newer than the watch holds:
// no verdict until the watch has it too; the report says the view was stale.
func TestSoakWaitsForTheWatchToCatchUp(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	c, pod, l := soakedRollout(clk.now())
	var mu sync.Mutex
	ahead := true
	c.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if a.(k8stesting.ListAction).GetListRestrictions().Labels.Empty() || !ahead {
			return false, nil, nil // the informer's lists, and reads once the watch caught up
		}
		p := pod.DeepCopy()
		p.ResourceVersion = "9"
		return true, &corev1.PodList{Items: []corev1.Pod{*p}}, nil
	})
	out, progress := soakInBackground(t, c, clk, 20*time.Second, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet")
	renewLease(t, c, l, clk.now())
	waitLine(t, progress.lines, "deployment/api: 1/1 updated, 1/1 available; soak done, the watch is behind the API server (pod api-new-x at resourceVersion 9")
	mu.Lock()
	ahead = false
	mu.Unlock()
	res := waitResults(t, out)[0]
	if res.Verdict != report.VerdictHealthy {
		t.Fatalf("result %s %s %q, want healthy once the watch caught up", res.Verdict, res.Reason, res.Message)
	}
	wantView(t, res, "the watch was behind the API server")
}

// TestLeasesForbidden: without read access to node Leases the gate still judges, checks the API
// server, and says in the report that kubelet liveness was not checked; deploy/rbac.yaml grants
// that access through its read role, bound in kube-node-lease.
func TestLeasesForbidden(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	c, _, _ := soakedRollout(clk.now())
	c.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(coordinationv1.Resource("leases"), "", errors.New(`User "ci" cannot list resource "leases"`))
	})
	p := DefaultPolicy()
	p.Soak = time.Second
	w := &Watcher{Client: kubetest.Wrap(c), Policy: p, Timeout: 20 * time.Second, Now: clk.now}
	res, err := w.Watch(context.Background(), []target.Target{apiDeployment})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Verdict != report.VerdictHealthy || !slices.ContainsFunc(res[0].View, func(s string) bool { return strings.Contains(s, "kubelet liveness not checked") }) {
		t.Fatalf("result %s %q view %q, want healthy, saying kubelet liveness was not checked", res[0].Verdict, res[0].Message, res[0].View)
	}

	data, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var granted []string
	boundInLeases := false
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
			RoleRef  struct{ Name string } `json:"roleRef"`
			Rules    []struct{ APIGroups, Resources, Verbs []string }
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "RoleBinding" && obj.Metadata.Namespace == leaseNamespace && obj.RoleRef.Name == "rollout-gate-read" {
			boundInLeases = true
		}
		if obj.Kind != "ClusterRole" || obj.Metadata.Name != "rollout-gate-read" {
			continue
		}
		for _, r := range obj.Rules {
			if slices.Contains(r.APIGroups, "coordination.k8s.io") && slices.Contains(r.Resources, "leases") {
				granted = append(granted, r.Verbs...)
			}
		}
	}
	for _, verb := range []string{"list", "watch"} {
		if !slices.Contains(granted, verb) {
			t.Errorf("deploy/rbac.yaml: role rollout-gate-read does not grant %s on leases.coordination.k8s.io", verb)
		}
	}
	if !boundInLeases {
		t.Errorf("deploy/rbac.yaml: no RoleBinding of rollout-gate-read in %s", leaseNamespace)
	}
}

// TestWatchRelistsAfterGone: a watch the API server ends with 410 Gone (its resourceVersion
// expired, as after a restart of the API server) is listed again, and the crash that happened
// in the gap is counted from the pod's restart count and last state, not from events that were
// never delivered.
func TestWatchRelistsAfterGone(t *testing.T) {
	t.Parallel()
	d, rs, newPod, _ := rollout()
	c := fake.NewClientset(d, rs, newPod)
	// Two crashes while the watch is down; no event of them reaches the gate.
	out, lists := crashWhileTheWatchIsDown(t, c, newPod, corev1.ContainerStatus{Name: "api", RestartCount: 2,
		State: running, LastTerminationState: terminated(1, "Error")}, func(first *watch.FakeWatcher) {
		first.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	})

	res := waitResults(t, out)
	if res[0].Verdict != report.VerdictFailed || res[0].Reason != "CrashLoopBackOff" {
		t.Fatalf("verdict %s %s, want failed CrashLoopBackOff from the relisted pod", res[0].Verdict, res[0].Reason)
	}
	if listsBefore, podLists := lists(); podLists <= listsBefore {
		t.Errorf("pods were listed %d times before the 410 and %d after it: want a relist", listsBefore, podLists)
	}
}

// TestReportDue: per node, the newest start of a running container or sidecar of the new pods, plus
// the second the kubelet's timestamp may have lost and reportLag; pods not yet on a node and
// containers not running are left out.
func TestReportDue(t *testing.T) {
	t.Parallel()
	at := func(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }
	run := func(name string, s int) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(s)}}}
	}
	pod := func(node string, cs ...corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{ContainerStatuses: cs}}
	}
	always := corev1.ContainerRestartPolicyAlways
	sidecar := pod("n2", run("app", 3))
	sidecar.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &always}}
	sidecar.Status.InitContainerStatuses = []corev1.ContainerStatus{run("proxy", 7)}
	got := reportDue([]*corev1.Pod{
		pod("n1", run("app", 5), run("log", 2)),
		pod("n1", run("app", 4), corev1.ContainerStatus{Name: "log", State: waiting("ContainerCreating", "")}),
		pod("", run("app", 50)),
		sidecar,
	})
	want := map[string]time.Time{"n1": t0.Add(6*time.Second + reportLag), "n2": t0.Add(8*time.Second + reportLag)}
	if len(got) != len(want) || !got["n1"].Equal(want["n1"]) || !got["n2"].Equal(want["n2"]) {
		t.Errorf("reportDue = %v, want %v", got, want)
	}
}

// TestSoakZeroGivesUpTheWaitForAReport: --soak 0 gives up the wait for a crash on start too: a
// container started a moment ago is healthy at the first renewal after the rollout completed.
func TestSoakZeroGivesUpTheWaitForAReport(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	c, pod, l := soakedRollout(clk.now())
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(clk.now().Truncate(time.Second))}}
	if _, err := c.CoreV1().Pods("prod").UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	progress := newSyncWriter()
	p := DefaultPolicy()
	p.Soak = 0
	w := &Watcher{Client: kubetest.Wrap(c), Policy: p, Timeout: 5 * time.Second, Progress: progress, Now: clk.now}
	out := watchInBackground(context.Background(), w, nil)
	waitLine(t, progress.lines, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet of node n1 to renew its Lease")
	renewLease(t, c, l, clk.now())
	if res := waitResults(t, out)[0]; res.Verdict != report.VerdictHealthy {
		t.Fatalf("result %s %s %q, want healthy at the renewal\nprogress:\n%s", res.Verdict, res.Reason, res.Message, progress.b.String())
	}
}
