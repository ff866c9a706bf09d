package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

var daemonSets = newRolloutKind(&typedKind{
	name: DaemonSet, resource: appsv1.Resource("daemonsets"),
	history: controllerRevisions,
	api: callsOf(func(c client.Interface, ns string) typedClient[*appsv1.DaemonSet, *appsv1.DaemonSetList] {
		return c.AppsV1().DaemonSets(ns)
	}),
	wrap: wrapAs(func(k *typedKind, d *appsv1.DaemonSet) PodWorkload {
		return daemonSet{rolloutBase{base{k, d, d.Spec.Selector, &d.Spec.Template}}, d}
	}),
})

type daemonSet struct {
	rolloutBase
	d *appsv1.DaemonSet
}

// Revisions: the new revision is the one of the DaemonSet's template generation; its pods carry
// that generation in pod-template-generation, or the hash of the ControllerRevision that stores
// the current template (the daemon controller's IsPodUpdated). The previous one is the
// highest-numbered ControllerRevision below the current one.
func (w daemonSet) Revisions(h History) (cur, prev *Revision) {
	d := w.d
	gen := d.Annotations[appsv1.DeprecatedTemplateGeneration]
	if gen == "" {
		gen = fmt.Sprint(d.Generation)
	}
	id := "generation " + gen
	// The template generation of an older revision is not kept: their IDs stay empty.
	cur, owned := revisionsOwnedBy(d, DaemonSet, h.ControllerRevisions, func(cr *appsv1.ControllerRevision) bool {
		t, err := revisionTemplate(cr)
		return err == nil && apiequality.Semantic.DeepEqual(t, &d.Spec.Template)
	})
	match := map[string]string{templateGenerationLabel: gen}
	if cur == nil {
		return &Revision{ID: id, Owner: ownerOf(d, DaemonSet), template: &d.Spec.Template, match: match}, nil
	}
	match[appsv1.DefaultDaemonSetUniqueLabelKey] = cur.cr.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	cur.ID, cur.match = id, match
	return cur, previous(cur, owned)
}

func (w daemonSet) Progress() string {
	d := w.d
	want := d.Status.DesiredNumberScheduled
	return fmt.Sprintf("%d/%d updated, %d/%d available", d.Status.UpdatedNumberScheduled, want, d.Status.NumberAvailable, want)
}
