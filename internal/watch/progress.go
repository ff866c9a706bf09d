package watch

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Progress, not the clock (issue 24). --timeout is wall-clock from the gate's start, and a large
// StatefulSet that rolls out slowly but healthily used to be timed out (and, with --rollback,
// rolled back) at 5 minutes. kubectl and kubedog judge by progress: the Deployment's
// progressDeadlineSeconds, kubedog's no-activity timeout. So a rollout fails for lack of progress
// only when nothing progressed for --progress-timeout (or the Deployment's own
// progressDeadlineSeconds, when shorter): no new pod turned Ready, no updated, ready or available
// count rose, no Job pod finished. --timeout stays the overall cap; a workload it stops while still
// progressing is a timeout that says so, and is not rolled back unless the CI asks
// (--rollback-on-timeout).

// progress follows one workload's progress on the judge's clock.
type progress struct {
	// at is when it last progressed (or when the watch first judged it); readyAt is when a pod last
	// turned Ready or a ready or finished count last rose: what "still progressing" rests on.
	at, readyAt time.Time
	counts      map[string]int64
	ready       map[types.UID]bool
}

// observe records what progressed in this snapshot of the workload and its new pods.
func (pr *progress) observe(obj runtime.Object, pods []*corev1.Pod, now time.Time) {
	first := pr.counts == nil
	if first {
		pr.counts, pr.ready, pr.at = map[string]int64{}, map[types.UID]bool{}, now
	}
	moved, readied := false, false
	for name, n := range progressCounts(obj) {
		if old, ok := pr.counts[name]; !ok || n > old {
			pr.counts[name] = n
			if ok && !first {
				moved = true
				readied = readied || name != "updated"
			}
		}
	}
	_, isJob := obj.(*batchv1.Job)
	for _, p := range pods {
		if podstate.Ready(p) && !pr.ready[p.UID] {
			pr.ready[p.UID] = true
			if !first {
				moved, readied = true, true
			}
		}
		// A Job's running pod is doing the Job's work: a long migration is not stuck.
		if isJob && p.Status.Phase == corev1.PodRunning && allRunning(p) {
			moved = true
		}
	}
	if moved {
		pr.at = now
	}
	if readied {
		pr.readyAt = now
	}
}

// progressCounts are the status counts of a workload whose rise is progress.
func progressCounts(obj runtime.Object) map[string]int64 {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return map[string]int64{"updated": int64(o.Status.UpdatedReplicas), "ready": int64(o.Status.ReadyReplicas), "available": int64(o.Status.AvailableReplicas)}
	case *appsv1.StatefulSet:
		return map[string]int64{"updated": int64(o.Status.UpdatedReplicas), "ready": int64(o.Status.ReadyReplicas), "available": int64(o.Status.AvailableReplicas)}
	case *appsv1.DaemonSet:
		return map[string]int64{"updated": int64(o.Status.UpdatedNumberScheduled), "ready": int64(o.Status.NumberReady), "available": int64(o.Status.NumberAvailable)}
	case *batchv1.Job:
		return map[string]int64{"finished": int64(o.Status.Succeeded + o.Status.Failed)}
	}
	// A kind read as unstructured that counts its replicas (an Argo Rollout).
	if w, err := workload.For(obj); err == nil {
		if c, ok := w.(interface{ ProgressCounts() map[string]int64 }); ok {
			return c.ProgressCounts()
		}
	}
	return nil
}

// progressLimit is how long the workload may go without progress: --progress-timeout, or a
// Deployment's own progressDeadlineSeconds when shorter. 0: no limit.
func progressLimit(obj runtime.Object, p Policy) time.Duration {
	limit := p.ProgressTimeout
	if d, ok := obj.(*appsv1.Deployment); ok && d.Spec.ProgressDeadlineSeconds != nil {
		if own := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second; own > 0 && (limit == 0 || own < limit) {
			limit = own
		}
	}
	return limit
}

// noProgress fails j when the workload made no progress for its limit; otherwise it returns when
// it may (zero: never).
func (j *Judgement) noProgress(s Snapshot, p Policy, now time.Time) time.Time {
	limit := progressLimit(s.Object, p)
	if limit <= 0 || s.ProgressAt.IsZero() || j.Verdict != "" {
		return time.Time{}
	}
	if end := s.ProgressAt.Add(limit); now.Before(end) {
		return end
	}
	j.Verdict, j.Reason = report.VerdictFailed, "NoProgress"
	j.Message = fmt.Sprintf("no progress for %s (no new pod Ready, no updated, ready or finished count rising; limit %s): %s",
		now.Sub(s.ProgressAt).Round(time.Second), limit, j.Progress)
	return time.Time{}
}

// stillProgressing says whether a workload stopped by --timeout was still progressing: a pod
// turned Ready, or a ready or finished count rose, within its progress limit.
func (pr *progress) stillProgressing(obj runtime.Object, p Policy, now time.Time) (bool, time.Duration) {
	if pr.readyAt.IsZero() {
		return false, 0
	}
	ago := now.Sub(pr.readyAt)
	limit := progressLimit(obj, p)
	return limit == 0 || ago < limit, ago
}
