package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kubectlcopy"
)

var deployments = newRolloutKind(&typedKind{
	name: Deployment, resource: appsv1.Resource("deployments"),
	history: replicaSets, watchHistory: true,
	api: callsOf(func(c client.Interface, ns string) typedClient[*appsv1.Deployment, *appsv1.DeploymentList] {
		return c.AppsV1().Deployments(ns)
	}),
	wrap: wrapAs(func(k *typedKind, d *appsv1.Deployment) PodWorkload {
		return deployment{rolloutBase{base{k, d, d.Spec.Selector, &d.Spec.Template}}, d}
	}),
})

type deployment struct {
	rolloutBase
	d *appsv1.Deployment
}

// Stalls: the deployment controller's Progressing=False with ProgressDeadlineExceeded (it gave
// up) and ReplicaFailure=True (it cannot create pods: a LimitRange, PodSecurity or webhook denial,
// or a quota), once it has observed the current generation.
func (w deployment) Stalls() []Stall {
	d := w.d
	if d.Generation > d.Status.ObservedGeneration {
		return nil
	}
	var out []Stall
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			out = append(out, Stall{DeadlineExceeded: true, Reason: c.Reason, Message: c.Message})
		}
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			out = append(out, Stall{CannotCreate: true, Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time})
		}
	}
	return out
}

// Conditions are the Deployment's status conditions (ReplicaFailure, Progressing, Available).
func (w deployment) Conditions() []Condition {
	var out []Condition
	for _, c := range w.d.Status.Conditions {
		out = append(out, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
	}
	return out
}

func (w deployment) Paused() bool { return w.d.Spec.Paused }

// Revisions: the new revision is the ReplicaSet the deployment controller rolls out, found as
// kubectl finds it (FindNewReplicaSet): of the ReplicaSets the Deployment controls, the oldest
// whose template equals the Deployment's once the hash label is ignored. The previous one is the
// highest-numbered ReplicaSet below it.
func (w deployment) Revisions(h History) (cur, prev *Revision) {
	var controlled []*appsv1.ReplicaSet
	var owned []*Revision
	for _, rs := range h.ReplicaSets {
		if metav1.IsControlledBy(rs, w.d) {
			controlled = append(controlled, rs)
			owned = append(owned, replicaSetRevision(rs))
		}
	}
	newRS := kubectlcopy.FindNewReplicaSet(w.d, controlled) // sorts controlled, not h
	if newRS == nil {
		return nil, nil
	}
	cur = replicaSetRevision(newRS)
	return cur, previous(cur, owned)
}

func (w deployment) Progress() string {
	d := w.d
	want := replicas(d.Spec.Replicas)
	if old := d.Status.Replicas - d.Status.UpdatedReplicas; old > 0 {
		// Available counts old pods too while they run: say so rather than look done.
		return fmt.Sprintf("%d/%d updated, %d available of which %d old pending termination", d.Status.UpdatedReplicas, want, d.Status.AvailableReplicas, old)
	}
	return fmt.Sprintf("%d/%d updated, %d/%d available", d.Status.UpdatedReplicas, want, d.Status.AvailableReplicas, want)
}
