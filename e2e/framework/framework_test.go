package framework

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestNamespaceName(t *testing.T) {
	t.Parallel()
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	tests := []struct {
		testName   string
		wantPrefix string
	}{
		{"TestSmoke/CrashLoop", "e2e-smoke-crashloop-"},
		{"TestGate_Rollback#01", "e2e-gate-rollback-01-"},
		{"Test" + strings.Repeat("VeryLong", 20), "e2e-verylongverylong"},
	}
	for _, tt := range tests {
		t.Run(tt.testName, func(t *testing.T) {
			t.Parallel()
			got := namespaceName(tt.testName)
			if !strings.HasPrefix(got, tt.wantPrefix) || len(got) > 63 || !label.MatchString(got) {
				t.Errorf("namespaceName(%q) = %q, want a DNS label of at most 63 characters starting with %q", tt.testName, got, tt.wantPrefix)
			}
			if again := namespaceName(tt.testName); again == got {
				t.Errorf("two calls gave the same name %q, want a random suffix", got)
			}
		})
	}
}

func TestBuilders(t *testing.T) {
	t.Parallel()
	d := Deployment("ns", "api", "--exit-code", "1")
	s := StatefulSet("ns", "db")
	ds := DaemonSet("ns", "agent", "--print", "x")
	tests := []struct {
		name     string
		selector *metav1.LabelSelector
		template corev1.PodTemplateSpec
		wantArgs []string
	}{
		{"deployment", d.Spec.Selector, d.Spec.Template, []string{"--exit-code", "1"}},
		{"statefulset", s.Spec.Selector, s.Spec.Template, nil},
		{"daemonset", ds.Spec.Selector, ds.Spec.Template, []string{"--print", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sel, err := metav1.LabelSelectorAsSelector(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			if !sel.Matches(labels.Set(tt.template.Labels)) {
				t.Errorf("selector %s does not match template labels %v", sel, tt.template.Labels)
			}
			c := tt.template.Spec.Containers[0]
			if c.Image != TestAppImage || c.ImagePullPolicy != corev1.PullNever {
				t.Errorf("container image %s pull %s, want %s pull Never", c.Image, c.ImagePullPolicy, TestAppImage)
			}
			if strings.Join(c.Args, " ") != strings.Join(tt.wantArgs, " ") {
				t.Errorf("args = %q, want %q", c.Args, tt.wantArgs)
			}
		})
	}
	if d.Namespace != "ns" || *d.Spec.Replicas != 1 || s.Spec.ServiceName != "db" {
		t.Errorf("deployment %s/%s replicas %d, statefulset serviceName %q", d.Namespace, d.Name, *d.Spec.Replicas, s.Spec.ServiceName)
	}
}

func TestResources(t *testing.T) {
	t.Parallel()
	r := Resources("", "32Mi")
	if _, ok := r.Limits[corev1.ResourceCPU]; ok {
		t.Error("empty cpu was set")
	}
	if got := r.Limits.Memory().String(); got != "32Mi" || r.Requests.Memory().String() != "32Mi" {
		t.Errorf("memory limit %s request %s, want 32Mi both", got, r.Requests.Memory())
	}
}

func crashingPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "api-1", Labels: Labels("api")},
		Status: corev1.PodStatus{
			Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{
				Name:                 "migrate",
				RestartCount:         2,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 20s\nmore"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}},
			}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name:  "app",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
			}},
		},
	}
}

func TestContainerHelpers(t *testing.T) {
	t.Parallel()
	p := crashingPod()
	migrate := ContainerStatus(p, "migrate")
	if WaitingReason(migrate) != "CrashLoopBackOff" || LastTermination(migrate).ExitCode != 1 {
		t.Errorf("init container: waiting %q, last termination %+v", WaitingReason(migrate), LastTermination(migrate))
	}
	if ContainerStatus(p, "nope") != nil || LastTermination(ContainerStatus(p, "app")) != nil {
		t.Error("unknown container found, or a never-terminated container has a termination")
	}
	now := &corev1.ContainerStatus{
		State:                corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}},
	}
	if LastTermination(now).Reason != "OOMKilled" {
		t.Error("LastTermination should prefer the current terminated state")
	}
	want := "pod api-1: phase Pending\n" +
		"  init migrate: waiting CrashLoopBackOff back-off 20s …, ready=false, restarts=2, last: terminated Error exit 1\n" +
		"  container app: waiting PodInitializing, ready=false, restarts=0\n"
	if got := PodSummary(p); got != want {
		t.Errorf("PodSummary =\n%s\nwant\n%s", got, want)
	}
}

func TestDeploymentAvailable(t *testing.T) {
	t.Parallel()
	available := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
	tests := []struct {
		name   string
		gen    int64
		status appsv1.DeploymentStatus
		want   bool
	}{
		{"rolled out", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, Conditions: available}, true},
		{"old generation", 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, Conditions: available}, false},
		{"old pod still there", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 2, AvailableReplicas: 2, Conditions: available}, false},
		{"not available", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 1, Conditions: available}, false},
		{"no condition", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: tt.gen}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}, Status: tt.status}
			if got := DeploymentAvailable(d); got != tt.want {
				t.Errorf("DeploymentAvailable = %t, want %t", got, tt.want)
			}
		})
	}
}

// TestWaitForPodSeesUpdates drives WaitForPod through a fake clientset's watch: the listed pod
// does not match, and the update that makes it match is only sent once the wait has seen it.
func TestWaitForPodSeesUpdates(t *testing.T) {
	t.Parallel()
	p := crashingPod()
	p.Status.InitContainerStatuses = nil
	c := fake.NewClientset(p)
	var once sync.Once
	got := WaitForPod(t, c, "ns", Selector("api"), time.Minute, "init container crash looping", func(p *corev1.Pod) bool {
		if WaitingReason(ContainerStatus(p, "migrate")) == "CrashLoopBackOff" {
			return true
		}
		once.Do(func() {
			// From another goroutine, as the kubelet would: conditions must not block.
			go func() {
				_, _ = c.CoreV1().Pods("ns").UpdateStatus(context.Background(), crashingPod(), metav1.UpdateOptions{})
			}()
		})
		return false
	})
	if got.Name != "api-1" || ContainerStatus(got, "migrate").RestartCount != 2 {
		t.Errorf("got pod %s with statuses %+v", got.Name, got.Status.InitContainerStatuses)
	}
}

// recorder is a testing.TB whose Fatal stops the calling goroutine and keeps the message.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

func TestKubeconfigUnset(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); Kubeconfig(r) }()
	<-done
	if !strings.Contains(r.msg, "KUBECONFIG is not set") || !strings.Contains(r.msg, "make test-e2e") {
		t.Errorf("message = %q, want it to say KUBECONFIG is not set and how to run the tests", r.msg)
	}
}
