package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

var statefulSets = &typedKind{
	name: StatefulSet, resource: appsv1.Resource("statefulsets"),
	history: controllerRevisions,
	api: callsOf(func(c client.Interface, ns string) typedClient[*appsv1.StatefulSet, *appsv1.StatefulSetList] {
		return c.AppsV1().StatefulSets(ns)
	}),
	wrap: wrapAs(func(k *typedKind, s *appsv1.StatefulSet) Workload {
		return statefulSet{base{k, s, s.Spec.Selector, &s.Spec.Template}, s}
	}),
}

type statefulSet struct {
	base
	s *appsv1.StatefulSet
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
