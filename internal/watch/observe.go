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
)

// A failed or timed-out workload judged by its pods leaves the watch with what the judge saw
// (Result.Observation): the diagnosis and the rollback start from it and read none of it again.
// Most of it comes from the caches when the verdict is reached; once the watch is over, what they
// did not hold is read once: the history of the kinds whose history the watch does not cache
// (StatefulSets, DaemonSets), and the pods' full specs (the caches keep them lean).

// observe keeps with a result what the judge saw of wl, from the caches.
func (c *nsCache) observe(wl workload.PodWorkload, res *Result) {
	h, cached := c.history(wl)
	res.Observation = workload.Observe(wl, h, res.Pods)
	res.historyRead = cached
}

// history is the part of wl's history the caches hold; ok is false when they hold none of it
// (a kind whose history the watch does not need to tell its new pods).
func (c *nsCache) history(wl workload.PodWorkload) (h workload.History, ok bool) {
	k := c.kinds[workload.Key(wl.Kind())]
	if k.History == nil {
		return workload.History{}, false
	}
	return k.History(wl), true
}

// observeParallel bounds the reads of completeObservations; observeTimeout bounds all of them,
// since they may run after the watch's own deadline (a timeout verdict). maxHistory caps the
// history objects listed for one workload.
const (
	observeParallel = 4
	observeTimeout  = 30 * time.Second
	maxHistory      = 500
)

// completeObservations reads, for each result to be diagnosed (failed or timed out, judged by its
// pods), what the caches did not hold: its history, when the watch does not cache it (one list),
// and its pods as the API server has them (one list, by its selector), a few workloads at a time.
// The observation of every other result is dropped. A history that cannot be read is said in the
// observation (HistoryErr); a pod gone meanwhile, or a list that fails, keeps its lean copy.
func (w *Watcher) completeObservations(ctx context.Context, rs []Result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), observeTimeout)
	defer cancel()
	slots := make(chan struct{}, observeParallel)
	var wg sync.WaitGroup
	for i := range rs {
		r := &rs[i]
		if r.Observation == nil {
			continue
		}
		if r.Verdict != report.VerdictFailed && r.Verdict != report.VerdictTimeout {
			r.Observation = nil
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			obs := r.Observation
			if !r.historyRead {
				h, err := obs.Workload.ListHistory(ctx, w.Client, maxHistory)
				if err != nil {
					obs.HistoryErr = err
				} else {
					obs = workload.Observe(obs.Workload, h, obs.Pods)
				}
			}
			w.fullPods(ctx, r.Workload.Namespace, obs)
			r.Observation, r.Pods = obs, obs.Pods
		})
	}
	wg.Wait()
}

// fullPods replaces the lean pods of an observation with the pods as the API server has them:
// one list, by the workload's selector.
func (w *Watcher) fullPods(ctx context.Context, namespace string, obs *workload.Observation) {
	if len(obs.Pods) == 0 {
		return
	}
	list, err := w.Client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: obs.Workload.Selector().String()})
	if err != nil {
		return
	}
	byUID := map[types.UID]*corev1.Pod{}
	for j := range list.Items {
		byUID[list.Items[j].UID] = &list.Items[j]
	}
	for j, p := range obs.Pods {
		if full, ok := byUID[p.UID]; ok {
			// The status stays the one the verdict was made on (the lean pod keeps it whole):
			// a liveness-killed container may be running and ready again by now, and the
			// diagnosis must see what the judge saw.
			full.ManagedFields = nil
			full.Status = p.Status
			obs.Pods[j] = *full
		}
	}
}
