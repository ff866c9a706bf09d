package rollback

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// pollInterval is how often the StatefulSet is re-read while waiting for its controller to see the undo.
const pollInterval = time.Second

// stuck is a rollout whose controller, after the undo, would wait for the failed revision's
// broken pods instead of replacing them (workload.Rollout.BlockedByBrokenPods: a StatefulSet under
// OrderedReady or OnDelete, kubernetes#67250).
type stuck struct {
	rollout workload.Rollout   // as read before the undo
	failed  *workload.Revision // the failed revision
	pods    []string           // not-ready pods of that revision when planned (for the dry run)
}

// stuckPods names the rollout's own pods that run the failed revision and are not ready: from
// the watch's observation of that revision's pods when there is one, else listed. Ready pods are
// left alone: the controller replaces them in order once it can proceed.
func stuckPods(ctx context.Context, c client.Interface, s *stuck, obs *workload.Observation) ([]string, error) {
	var pods []corev1.Pod
	if obs != nil && obs.Current != nil && obs.Current.Name == s.failed.Name &&
		obs.Workload.Meta().GetUID() == s.rollout.Meta().GetUID() {
		pods = notReadyOf(s.failed, obs.Pods)
	} else {
		var err error
		if pods, err = podsOf(ctx, c, s); err != nil {
			return nil, err
		}
	}
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return names, nil
}

func podsOf(ctx context.Context, c client.Interface, s *stuck) ([]corev1.Pod, error) {
	m := s.rollout.Meta()
	list, err := c.CoreV1().Pods(m.GetNamespace()).List(ctx, metav1.ListOptions{LabelSelector: s.rollout.Selector().String()})
	if err != nil {
		return nil, err
	}
	return notReadyOf(s.failed, list.Items), nil
}

// notReadyOf keeps the pods of the failed revision that are not ready and not being deleted.
func notReadyOf(failed *workload.Revision, pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if failed.Owns(&p) && p.DeletionTimestamp == nil && !workload.PodReady(&p) {
			out = append(out, p)
		}
	}
	return out
}

// releaseStuckPods waits until the controller has seen the undo (otherwise it could recreate a
// deleted pod at the failed revision), then deletes the not-ready pods of the failed revision.
// Each delete is conditioned on the pod's UID: StatefulSet pods keep their names, and a pod the
// controller has already recreated at the good revision must not be deleted.
func (r *Rollbacker) releaseStuckPods(ctx context.Context, w subject, s *stuck) ([]string, error) {
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		got, err := w.kind.Get(ctx, r.Client, w.ref.Namespace, w.ref.Name)
		if err != nil {
			return false, kube.ExplainWrapped(err, "get "+w.String(), "get", w.kind.GroupResource())
		}
		// The revision the workload itself now names, once its controller has observed the undo.
		pw, ok := got.(workload.PodWorkload)
		if !ok {
			return false, nil
		}
		cur, _ := pw.Revisions(workload.History{})
		return cur != nil && cur.Name != s.failed.Name, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the StatefulSet controller did not take up the rollback within %s: %w", r.timeout(), ctx.Err())
		}
		return nil, err
	}
	pods, err := podsOf(ctx, r.Client, s)
	if err != nil {
		return nil, kube.ExplainWrapped(err, "list pods of "+w.String(), "list", corev1.Resource("pods"))
	}
	var deleted []string
	for _, p := range pods {
		uid := p.UID
		err := r.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid},
		})
		switch {
		case err == nil:
			deleted = append(deleted, p.Name)
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			// Gone already, or already replaced by a new pod of the same name.
		default:
			return deleted, kube.ExplainWrapped(err, fmt.Sprintf("delete stuck pod %s/%s", p.Namespace, p.Name), "delete", corev1.Resource("pods"))
		}
	}
	return deleted, nil
}
