package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

var statefulSets = newRolloutKind(&typedKind{
	name: StatefulSet, resource: appsv1.Resource("statefulsets"),
	history: controllerRevisions,
	api: callsOf(func(c client.Interface, ns string) typedClient[*appsv1.StatefulSet, *appsv1.StatefulSetList] {
		return c.AppsV1().StatefulSets(ns)
	}),
	wrap: wrapAs(func(k *typedKind, s *appsv1.StatefulSet) PodWorkload {
		return statefulSet{rolloutBase{base{k, s, s.Spec.Selector, &s.Spec.Template}}, s}
	}),
})

type statefulSet struct {
	rolloutBase
	s *appsv1.StatefulSet
}

// BlockedByBrokenPods: after an undo, under OrderedReady (the default) the StatefulSet controller
// stops at the first pod that is not Running and Ready before it gets to replacing out-of-date
// pods, so a crash-looping pod blocks the rollback forever (kubernetes#67250); with OnDelete it
// never replaces pods itself. Parallel with RollingUpdate replaces them by itself. The failed
// revision is the update revision it was rolling out.
func (w statefulSet) BlockedByBrokenPods() (*Revision, bool) {
	s := w.s
	blocked := s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement ||
		s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType
	rev := s.Status.UpdateRevision
	if !blocked || rev == "" {
		return nil, false
	}
	return &Revision{Name: rev, ID: rev, Owner: ownerOf(s, StatefulSet),
		match: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}}, true
}

// Revisions: the new revision is the StatefulSet controller's update revision, once it has
// observed the current generation; its pods carry the revision's name in controller-revision-hash.
// The previous one is the highest-numbered ControllerRevision below it.
func (w statefulSet) Revisions(h History) (cur, prev *Revision) {
	s := w.s
	rev := s.Status.UpdateRevision
	if rev == "" || s.Status.ObservedGeneration < s.Generation {
		return nil, nil
	}
	match := map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}
	cur, owned := revisionsOwnedBy(s, StatefulSet, h.ControllerRevisions, func(cr *appsv1.ControllerRevision) bool { return cr.Name == rev })
	for _, r := range owned {
		r.ID, r.match = r.Name, match
	}
	if cur == nil {
		// Read without its history (the watch): known by name only.
		return &Revision{Name: rev, ID: rev, Owner: ownerOf(s, StatefulSet), match: match}, nil
	}
	return cur, previous(cur, owned)
}

func (w statefulSet) Progress() string {
	s := w.s
	want := replicas(s.Spec.Replicas)
	return fmt.Sprintf("%d/%d updated, %d/%d ready", s.Status.UpdatedReplicas, want, s.Status.ReadyReplicas, want)
}
