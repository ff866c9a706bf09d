package workload

import (
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// jobs are batch/v1 Jobs: they run to completion, keep no revisions, and have nothing to roll back.
var jobs = newCompletionKind(&typedKind{
	name: Job, resource: batchv1.Resource("jobs"),
	api: callsOf(func(c client.Interface, ns string) typedClient[*batchv1.Job, *batchv1.JobList] {
		return c.BatchV1().Jobs(ns)
	}),
	wrap: wrapAs(func(k *typedKind, j *batchv1.Job) PodWorkload {
		return job{base{k, j, j.Spec.Selector, &j.Spec.Template}, j}
	}),
})

// Labels the Job controller's API server sets on the pods of a Job with a generated selector:
// the Job's uid, so that a Job re-created under the same name never claims its predecessor's pods.
const (
	jobUIDLabel       = batchv1.ControllerUidLabel // batch.kubernetes.io/controller-uid
	legacyJobUIDLabel = "controller-uid"           // before Kubernetes 1.27
)

type job struct {
	base
	j *batchv1.Job
}

// Paused: a suspended Job runs no pods until it is resumed.
func (w job) Paused() bool { return w.j.Spec.Suspend != nil && *w.j.Spec.Suspend }

// Revisions: a Job has one revision, itself, known by its uid. Its pods are the ones it controls
// (owner reference with its uid) that carry its uid in the controller-uid label; with a selector
// of the user's own (manualSelector) the pods carry no such label and the owner reference decides.
// There is no previous revision: a Job's pod template cannot change.
func (w job) Revisions(History) (cur, prev *Revision) {
	j := w.j
	uid := string(j.UID)
	return &Revision{
		Name: j.Name, Created: j.CreationTimestamp.Time,
		Owner:     ownerOf(j, Job),
		template:  &j.Spec.Template,
		match:     map[string]string{jobUIDLabel: uid, legacyJobUIDLabel: uid},
		ownerOnly: j.Spec.ManualSelector != nil && *j.Spec.ManualSelector,
	}, nil
}

// Outcome reads the Job's conditions. FailureTarget is the controller's decision to fail the Job,
// set before Failed while it stops the pods still running (Kubernetes 1.31 and later): the gate
// need not wait for that.
func (w job) Outcome() Outcome {
	var done *batchv1.JobCondition
	for i, c := range w.j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			reason := c.Reason
			if reason == "" {
				reason = string(batchv1.JobFailed)
			}
			return Outcome{Failed: true, Reason: reason, Message: c.Message}
		case batchv1.JobComplete:
			done = &w.j.Status.Conditions[i]
		}
	}
	if done != nil {
		return Outcome{Done: true, Reason: string(batchv1.JobComplete), Message: done.Message}
	}
	return Outcome{}
}

// Progress: "0/1 succeeded, 1 active, 1 failed (backoff limit 1)".
func (w job) Progress() string {
	j := w.j
	want := replicas(j.Spec.Completions)
	line := fmt.Sprintf("%d/%d succeeded, %d active, %d failed", j.Status.Succeeded, want, j.Status.Active, j.Status.Failed)
	var notes []string
	if j.Spec.BackoffLimit != nil {
		notes = append(notes, fmt.Sprintf("backoff limit %d", *j.Spec.BackoffLimit))
	}
	if w.Paused() {
		notes = append(notes, "suspended")
	}
	if len(notes) > 0 {
		line += " (" + strings.Join(notes, ", ") + ")"
	}
	return line
}
