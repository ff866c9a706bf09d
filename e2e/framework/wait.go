package framework

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/klog/v2"
)

// The waits below follow objects through the watch API (list, then watch, resumed on errors)
// and return as soon as the condition holds; on timeout they fail the test with what they were
// waiting for and the state they last saw. Conditions see typed objects and must not block.

// WaitForPod waits until a pod of namespace matching the label selector satisfies cond and
// returns that pod.
func WaitForPod(t testing.TB, c kubernetes.Interface, namespace, selector string, timeout time.Duration, desc string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	lw := listWatch(c.CoreV1().Pods(namespace), func(o *metav1.ListOptions) { o.LabelSelector = selector })
	return until(t, c, timeout, fmt.Sprintf("pod %s in %s: %s", selector, namespace, desc), lw, cond, func(ctx context.Context) string {
		pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return fmt.Sprintf("list pods: %v", err)
		}
		if len(pods.Items) == 0 {
			return "no pods"
		}
		var b strings.Builder
		for i := range pods.Items {
			b.WriteString(PodSummary(&pods.Items[i]))
		}
		return b.String()
	})
}

// WaitForEvent waits until an event in namespace satisfies cond and returns it.
func WaitForEvent(t testing.TB, c kubernetes.Interface, namespace string, timeout time.Duration, desc string, cond func(*corev1.Event) bool) *corev1.Event {
	t.Helper()
	lw := listWatch(c.CoreV1().Events(namespace), func(*metav1.ListOptions) {})
	return until(t, c, timeout, fmt.Sprintf("event in %s: %s", namespace, desc), lw, cond, func(ctx context.Context) string {
		return eventsText(ctx, c, namespace)
	})
}

// WaitForDeploymentAvailable waits until the Deployment has rolled out its current generation:
// all replicas updated and available, as `kubectl rollout status` requires.
func WaitForDeploymentAvailable(t testing.TB, c kubernetes.Interface, namespace, name string, timeout time.Duration) *appsv1.Deployment {
	t.Helper()
	lw := listWatch(c.AppsV1().Deployments(namespace), named(name))
	return until(t, c, timeout, fmt.Sprintf("deployment %s/%s available", namespace, name), lw, DeploymentAvailable,
		func(ctx context.Context) string { return Dump(ctx, c, namespace) })
}

// DeploymentAvailable says whether d has rolled out its current generation completely.
func DeploymentAvailable(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas != want ||
		d.Status.AvailableReplicas != want || d.Status.Replicas != want {
		return false
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitForStatefulSetReady waits until every replica of the StatefulSet's current revision is ready.
func WaitForStatefulSetReady(t testing.TB, c kubernetes.Interface, namespace, name string, timeout time.Duration) *appsv1.StatefulSet {
	t.Helper()
	lw := listWatch(c.AppsV1().StatefulSets(namespace), named(name))
	return until(t, c, timeout, fmt.Sprintf("statefulset %s/%s ready", namespace, name), lw, func(s *appsv1.StatefulSet) bool {
		want := int32(1)
		if s.Spec.Replicas != nil {
			want = *s.Spec.Replicas
		}
		return s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas == want &&
			s.Status.UpdatedReplicas == want && s.Status.CurrentRevision == s.Status.UpdateRevision
	}, func(ctx context.Context) string { return Dump(ctx, c, namespace) })
}

// WaitForDaemonSetReady waits until the DaemonSet's pods are updated and ready on every node.
func WaitForDaemonSetReady(t testing.TB, c kubernetes.Interface, namespace, name string, timeout time.Duration) *appsv1.DaemonSet {
	t.Helper()
	lw := listWatch(c.AppsV1().DaemonSets(namespace), named(name))
	return until(t, c, timeout, fmt.Sprintf("daemonset %s/%s ready", namespace, name), lw, func(d *appsv1.DaemonSet) bool {
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.DesiredNumberScheduled > 0 &&
			s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberReady == s.DesiredNumberScheduled
	}, func(ctx context.Context) string { return Dump(ctx, c, namespace) })
}

// WaitForLogs waits until the logs of a container (of its previous instance when previous is
// set) contain want, and returns them. Retrying matters: right after a restart the kubelet can
// answer "unable to retrieve container logs" for the previous container for a moment.
func WaitForLogs(t testing.TB, c kubernetes.Interface, namespace, pod, container string, previous bool, timeout time.Duration, want string) string {
	t.Helper()
	var logs string
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		b, err := c.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous}).DoRaw(ctx)
		if err != nil {
			lastErr = err
			return false, nil
		}
		logs, lastErr = string(b), nil
		return strings.Contains(logs, want), nil
	})
	if err != nil {
		which := "logs"
		if previous {
			which = "previous logs"
		}
		t.Fatalf("waited %s for %q in the %s of %s/%s container %s: last error %v; last logs:\n%s",
			timeout, want, which, namespace, pod, container, lastErr, logs)
	}
	return logs
}

// WaitFor polls cond until it returns true, failing the test on an error or after timeout. Use
// the watch-based waits above where they fit.
func WaitFor(t testing.TB, timeout time.Duration, desc string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting %s for %s: %v", timeout, desc, err)
	}
}

// ContainerStatus returns the status of the container or init container called name, or nil.
func ContainerStatus(pod *corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// LastTermination returns how the container last ended: its current state when it is
// terminated now, else its lastState (nil if it never ended).
func LastTermination(cs *corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs == nil {
		return nil
	}
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

// WaitingReason returns the container's waiting reason ("" when it is not waiting).
func WaitingReason(cs *corev1.ContainerStatus) string {
	if cs == nil || cs.State.Waiting == nil {
		return ""
	}
	return cs.State.Waiting.Reason
}

// listWatchClient is the part of a typed client the waits read through.
type listWatchClient[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// listWatch lists and watches through a typed client, every call narrowed by narrow.
func listWatch[L runtime.Object](client listWatchClient[L], narrow func(*metav1.ListOptions)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			narrow(&o)
			return client.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			narrow(&o)
			return client.Watch(ctx, o)
		},
	}
}

// named narrows a list or watch to the object called name.
func named(name string) func(*metav1.ListOptions) {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	return func(o *metav1.ListOptions) { o.FieldSelector = sel }
}

// until runs a list+watch until an added or modified object of type T satisfies cond.
// The client tells the reflector whether it supports watch-list streams (fake clientsets do not).
func until[T runtime.Object](t testing.TB, c kubernetes.Interface, timeout time.Duration, desc string, lw *cache.ListWatch, cond func(T) bool, state func(context.Context) string) T {
	t.Helper()
	var zero T
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	ctx = klog.NewContext(ctx, testLogger(t))
	start := time.Now()
	ev, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, c), newObject[T](), nil, func(e watch.Event) (bool, error) {
		if e.Type != watch.Added && e.Type != watch.Modified {
			return false, nil
		}
		obj, ok := e.Object.(T)
		return ok && cond(obj), nil
	})
	if err != nil {
		stateCtx, stateCancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer stateCancel()
		reason := err.Error()
		if errors.Is(err, wait.ErrWaitTimeout) || errors.Is(err, context.DeadlineExceeded) {
			reason = "timed out"
		}
		t.Fatalf("waiting for %s: %s after %s; last state:\n%s", desc, reason, time.Since(start).Round(time.Second), state(stateCtx))
		return zero
	}
	return ev.Object.(T)
}

// testLogger sends client-go's watch logs to the test log, minus the "context canceled" errors
// every watch logs when a wait ends. UntilWithSync waits for its informer to stop before it
// returns, so nothing logs after the test.
func testLogger(t testing.TB) logr.Logger {
	return funcr.New(func(prefix, args string) {
		if !strings.Contains(args, "context canceled") {
			t.Logf("client-go: %s %s", prefix, args)
		}
	}, funcr.Options{})
}

// newObject returns a new empty *X for T = *X, which the informer needs to know the type.
func newObject[T runtime.Object]() T {
	return reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T)
}
