package watch

import (
	"fmt"

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

// revisionPods returns the pods of the workload's new revision and a name for that revision.
// ok is false while the new revision cannot be told yet (the controller has not acted).
func revisionPods(obj any, pods []*corev1.Pod, rss []*appsv1.ReplicaSet) (out []*corev1.Pod, revision string, ok bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		rs := newReplicaSet(o, rss)
		if rs == nil {
			return nil, "", false
		}
		hash := rs.Labels[podTemplateHashLabel]
		for _, p := range pods {
			if ownedBy(p.OwnerReferences, rs.UID) && p.Labels[podTemplateHashLabel] == hash {
				out = append(out, p)
			}
		}
		return out, rs.Annotations[revisionAnnotation], true
	case *appsv1.StatefulSet:
		rev := o.Status.UpdateRevision
		if rev == "" || o.Status.ObservedGeneration < o.Generation {
			return nil, "", false
		}
		for _, p := range pods {
			if ownedBy(p.OwnerReferences, o.UID) && p.Labels[controllerRevisionLabel] == rev {
				out = append(out, p)
			}
		}
		return out, rev, true
	case *appsv1.DaemonSet:
		gen := o.Annotations[dsGenerationAnnotation]
		if gen == "" {
			gen = fmt.Sprint(o.Generation)
		}
		for _, p := range pods {
			if ownedBy(p.OwnerReferences, o.UID) && p.Labels[dsTemplateGeneration] == gen {
				out = append(out, p)
			}
		}
		return out, "generation " + gen, true
	}
	return nil, "", false
}
