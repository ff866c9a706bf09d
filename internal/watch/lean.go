package watch

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The caches hold thousands of pods on a platform-sized release: each is cut down, as it
// arrives, to what the judge reads (leanPod), and the pods of the workloads to diagnose are read
// again in full once the watch is over (fullPods). Managed fields go from every cached object.

// lean is the informers' transform.
func lean(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return leanPod(p), nil
	}
	return stripManagedFields(obj)
}

// stripManagedFields keeps the caches small: the judge never reads managed fields.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// leanEvent is the events informer's transform: managed fields go, and a folded event's message
// loses the aggregator's prefix (podstate.EventMessage), so that the probe rules still read
// "Liveness probe ..." once the kubelet's events are combined.
func leanEvent(obj any) (any, error) {
	if e, ok := obj.(*corev1.Event); ok {
		e.Message = podstate.EventMessage(e)
	}
	return stripManagedFields(obj)
}

// leanPod keeps of a pod its identity, labels and owners, its whole status, and of its spec
// what the judge reads: the node, the restart policy, and each container's name, restart policy
// and probes (probes.go). Annotations, volumes, environment, commands and the rest are dropped.
func leanPod(p *corev1.Pod) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Generation: p.Generation, CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
			Labels: p.Labels, OwnerReferences: p.OwnerReferences,
		},
		Spec: corev1.PodSpec{
			NodeName: p.Spec.NodeName, RestartPolicy: p.Spec.RestartPolicy,
			InitContainers: leanContainers(p.Spec.InitContainers), Containers: leanContainers(p.Spec.Containers),
		},
		Status: p.Status,
	}
}

func leanContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy,
			LivenessProbe: c.LivenessProbe, ReadinessProbe: c.ReadinessProbe, StartupProbe: c.StartupProbe}
	}
	return out
}

// fullPodsParallel bounds the lists of fullPods; fullPodsTimeout bounds all of them, since they
// may run after the watch's own deadline (a timeout verdict).
const (
	fullPodsParallel = 4
	fullPodsTimeout  = 30 * time.Second
)

// fullPods replaces the lean pods of the results to be diagnosed (failed and timed out, judged by
// their pods) with the pods as the API server has them: one list per workload, by its selector,
// a few at a time. A pod gone meanwhile, or a list that fails, keeps its lean copy.
func (w *Watcher) fullPods(ctx context.Context, rs []Result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fullPodsTimeout)
	defer cancel()
	slots := make(chan struct{}, fullPodsParallel)
	var wg sync.WaitGroup
	for i := range rs {
		r := &rs[i]
		if len(r.Pods) == 0 || r.Status != nil || (r.Verdict != report.VerdictFailed && r.Verdict != report.VerdictTimeout) {
			continue
		}
		wl, err := workload.For(r.Object)
		if err != nil {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			list, err := w.Client.CoreV1().Pods(r.Workload.Namespace).List(ctx, metav1.ListOptions{LabelSelector: wl.Selector().String()})
			if err != nil {
				return
			}
			byUID := map[types.UID]*corev1.Pod{}
			for j := range list.Items {
				byUID[list.Items[j].UID] = &list.Items[j]
			}
			for j, p := range r.Pods {
				if full, ok := byUID[p.UID]; ok {
					// The status stays the one the verdict was made on (the lean pod keeps it whole):
					// a liveness-killed container may be running and ready again by now, and the
					// diagnosis must see what the judge saw.
					full.ManagedFields = nil
					full.Status = p.Status
					r.Pods[j] = *full
				}
			}
		})
	}
	wg.Wait()
}
