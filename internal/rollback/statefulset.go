package rollback

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
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

// stuck is a StatefulSet that may hold broken pods of the failed revision after the undo.
type stuck struct {
	sts        *appsv1.StatefulSet // as read before the undo
	failedHash string              // controller-revision-hash of the failed revision
	pods       []string            // not-ready pods of that revision when planned (for the dry run)
}

// holdsBrokenPods says whether the controller, after an undo, waits for the failed revision's
// broken pods instead of replacing them. Under OrderedReady (the default) it stops at the first
// pod that is not Running and Ready before it gets to replacing out-of-date pods, so a crash-looping
// pod blocks the rollback forever (kubernetes#67250). With OnDelete it never replaces pods itself.
// Parallel with RollingUpdate replaces them by itself, so nothing is deleted there.
func holdsBrokenPods(sts *appsv1.StatefulSet) bool {
	return sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement ||
		sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType
}

// stuckPods lists the StatefulSet's own pods that run the failed revision and are not ready.
// Ready pods are left alone: the controller replaces them in order once it can proceed.
func stuckPods(ctx context.Context, c client.Interface, s *stuck) ([]string, error) {
	pods, err := podsOf(ctx, c, s)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return names, nil
}

func podsOf(ctx context.Context, c client.Interface, s *stuck) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(s.sts.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of statefulset %s/%s: %w", s.sts.Namespace, s.sts.Name, err)
	}
	list, err := c.CoreV1().Pods(s.sts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if metav1.IsControlledBy(&p, s.sts) && p.DeletionTimestamp == nil &&
			p.Labels[appsv1.ControllerRevisionHashLabelKey] == s.failedHash && !workload.PodReady(&p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// releaseStuckPods waits until the controller has seen the undo (otherwise it could recreate a
// deleted pod at the failed revision), then deletes the not-ready pods of the failed revision.
// Each delete is conditioned on the pod's UID: StatefulSet pods keep their names, and a pod the
// controller has already recreated at the good revision must not be deleted.
func (r *Rollbacker) releaseStuckPods(ctx context.Context, w subject, s *stuck) ([]string, error) {
	sts := r.Client.AppsV1().StatefulSets(w.namespace)
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		cur, err := sts.Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return false, kube.ExplainWrapped(err, "get "+w.String(), "get", appsv1.Resource("statefulsets"))
		}
		return cur.Status.ObservedGeneration >= cur.Generation && cur.Status.UpdateRevision != s.failedHash, nil
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
