package watch

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Labels that tie a pod to the revision that made it.
const (
	podTemplateHashLabel    = "pod-template-hash"        // Deployment -> ReplicaSet -> pods
	controllerRevisionLabel = "controller-revision-hash" // StatefulSet pods: the ControllerRevision name
	dsTemplateGeneration    = "pod-template-generation"  // DaemonSet pods
	dsGenerationAnnotation  = "deprecated.daemonset.template.generation"
	revisionAnnotation      = "deployment.kubernetes.io/revision"
)

// newReplicaSet finds the ReplicaSet of a Deployment's current template, as the deployment
// controller does: owned by the Deployment, with an equal template once the hash label is ignored.
func newReplicaSet(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	var found *appsv1.ReplicaSet
	for _, rs := range rss {
		if !ownedBy(rs.OwnerReferences, d.UID) || !equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			continue
		}
		// Two equal templates can exist after a hash collision; the oldest wins, as in the controller.
		if found == nil || rs.CreationTimestamp.Before(&found.CreationTimestamp) {
			found = rs
		}
	}
	return found
}

func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, podTemplateHashLabel)
	delete(b.Labels, podTemplateHashLabel)
	return apiequality.Semantic.DeepEqual(a, b)
}

func ownedBy(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller && r.UID == uid {
			return true
		}
	}
	return false
}

// revisionPods returns the pods of the workload's new revision, a name for that revision, and
// when its rollout began (the new ReplicaSet's creation, else its oldest pod). ok is false while
// the new revision cannot be told yet (the controller has not acted).
func revisionPods(obj any, pods []*corev1.Pod, rss []*appsv1.ReplicaSet) (out []*corev1.Pod, revision string, since time.Time, ok bool) {
	keep := func(owner types.UID, label, value string) {
		for _, p := range pods {
			if ownedBy(p.OwnerReferences, owner) && p.Labels[label] == value {
				out = append(out, p)
				if since.IsZero() || p.CreationTimestamp.Time.Before(since) {
					since = p.CreationTimestamp.Time
				}
			}
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		rs := newReplicaSet(o, rss)
		if rs == nil {
			return nil, "", time.Time{}, false
		}
		keep(rs.UID, podTemplateHashLabel, rs.Labels[podTemplateHashLabel])
		return out, rs.Annotations[revisionAnnotation], rs.CreationTimestamp.Time, true
	case *appsv1.StatefulSet:
		rev := o.Status.UpdateRevision
		if rev == "" || o.Status.ObservedGeneration < o.Generation {
			return nil, "", time.Time{}, false
		}
		keep(o.UID, controllerRevisionLabel, rev)
		return out, rev, since, true
	case *appsv1.DaemonSet:
		gen := o.Annotations[dsGenerationAnnotation]
		if gen == "" {
			gen = fmt.Sprint(o.Generation)
		}
		keep(o.UID, dsTemplateGeneration, gen)
		return out, "generation " + gen, since, true
	}
	return nil, "", time.Time{}, false
}
