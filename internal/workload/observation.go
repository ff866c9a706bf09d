package workload

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Observation is what the watch saw of a workload judged by its pods when it gave up on the
// rollout (failed or timed out): the workload, its new and previous revisions with their pod
// templates and what changed between them, and the new revision's pods. The diagnosis and the
// rollback start from it instead of reading and working out the same again.
type Observation struct {
	// Workload is the workload as judged.
	Workload PodWorkload
	// Current is the revision being rolled out (nil while the controller had not made it), and
	// Previous the one before it (nil on a first deploy).
	Current, Previous *Revision
	// HistoryErr says why the workload's history could not be read: Current and Previous are
	// then what the workload alone tells, and Changes are unknown.
	HistoryErr error
	// Template is the new revision's pod template: Current's, else the workload's own.
	Template *corev1.PodTemplateSpec
	// PreviousTemplate is Previous's pod template; PreviousErr says why it could not be read.
	PreviousTemplate *corev1.PodTemplateSpec
	PreviousErr      error
	// Changes are the pod template's changes from Previous to Current; nil when the new
	// revision is not known by name.
	Changes []report.Change
	// Pods are the new revision's pods as judged: the status the verdict was made on, with the
	// full spec read once when the watch cached less.
	Pods []corev1.Pod
}

// Observe works out an Observation from the workload, its history (the objects its revisions
// are kept in) and the new revision's pods as judged.
func Observe(wl PodWorkload, h History, pods []corev1.Pod) *Observation {
	o := &Observation{Workload: wl, Pods: pods, Template: wl.Template().DeepCopy()}
	o.Current, o.Previous = wl.Revisions(h)
	if o.Current == nil || o.Current.Name == "" {
		return o
	}
	if t, err := o.Current.Template(); err == nil {
		o.Template = t
	}
	if o.Previous != nil {
		o.PreviousTemplate, o.PreviousErr = o.Previous.Template()
	}
	o.Changes = podtemplate.Diff(o.PreviousTemplate, o.Template)
	return o
}
