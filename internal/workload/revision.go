package workload

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/kubectlcopy"
)

// Labels and annotations that tie pods and history to a revision.
const (
	// RevisionAnnotation numbers a Deployment's ReplicaSets (kubectl rollout history).
	RevisionAnnotation = kubectlcopy.RevisionAnnotation
	// templateGenerationLabel marks DaemonSet pods with the template generation that made them.
	templateGenerationLabel = "pod-template-generation"
)

// History is what a workload's revisions are made of: a Deployment's ReplicaSets, or the
// ControllerRevisions of a StatefulSet or DaemonSet. Objects of other owners are ignored.
type History struct {
	ReplicaSets         []*appsv1.ReplicaSet
	ControllerRevisions []*appsv1.ControllerRevision
}

// Owner names the controller of a revision's pods.
type Owner struct {
	Kind, Name string
	UID        types.UID
}

// Revision is one revision of a workload's pod template.
type Revision struct {
	// Name is the ReplicaSet or ControllerRevision that holds it; empty when it is known by its
	// template generation only (a DaemonSet read without its history).
	Name string
	// Number is the revision as `kubectl rollout history` numbers it; 0 when unknown.
	Number int64
	// ID is how the gate names the revision in a verdict: a Deployment's revision number, a
	// StatefulSet's update revision, a DaemonSet's template generation.
	ID string
	// Created is when the object holding it was made (zero when there is none).
	Created time.Time
	// Owner is the controller of its pods: the ReplicaSet, or the workload itself.
	Owner Owner

	template *corev1.PodTemplateSpec
	cr       *appsv1.ControllerRevision
	match    map[string]string // a pod of the revision carries one of these labels
	// ownerOnly: the controller reference alone says which pods are the revision's (a Job with a
	// selector of its user's, whose pods carry no label of the Job's own).
	ownerOnly bool
}

// Template is the revision's pod template: the ReplicaSet's, or the one a ControllerRevision stores.
func (r *Revision) Template() (*corev1.PodTemplateSpec, error) {
	if r.template != nil {
		return r.template.DeepCopy(), nil
	}
	if r.cr != nil {
		return revisionTemplate(r.cr)
	}
	return nil, fmt.Errorf("revision %s holds no pod template", r.ID)
}

// Owns says whether a pod belongs to the revision: controlled by its owner, with its label.
func (r *Revision) Owns(p *corev1.Pod) bool {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.UID != r.Owner.UID {
		return false
	}
	if r.ownerOnly {
		return true
	}
	for k, v := range r.match {
		if v != "" && p.Labels[k] == v {
			return true
		}
	}
	return false
}

// Pods keeps the pods of the revision.
func (r *Revision) Pods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if r.Owns(p) {
			out = append(out, p)
		}
	}
	return out
}

// Since is when the revision's rollout began: its object's creation, else its oldest pod's.
func (r *Revision) Since(pods []*corev1.Pod) time.Time {
	if !r.Created.IsZero() {
		return r.Created
	}
	var since time.Time
	for _, p := range pods {
		if since.IsZero() || p.CreationTimestamp.Time.Before(since) {
			since = p.CreationTimestamp.Time
		}
	}
	return since
}

// NumberString formats a revision number as kubectl prints it; "" for none.
func (r *Revision) NumberString() string {
	if r == nil || r.Number == 0 {
		return ""
	}
	return strconv.FormatInt(r.Number, 10)
}

func replicaSetRevision(rs *appsv1.ReplicaSet) *Revision {
	n, _ := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
	return &Revision{
		Name: rs.Name, Number: n, ID: rs.Annotations[RevisionAnnotation], Created: rs.CreationTimestamp.Time,
		Owner:    Owner{Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID},
		template: &rs.Spec.Template,
		match:    map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]},
	}
}

// previous is the highest-numbered revision below cur: what ran before it.
func previous(cur *Revision, others []*Revision) *Revision {
	var prev *Revision
	for _, r := range others {
		if r.Name != cur.Name && r.Number < cur.Number && (prev == nil || r.Number > prev.Number) {
			prev = r
		}
	}
	return prev
}

// revisionsOwnedBy are the ControllerRevisions the workload w of kind controls, as revisions of
// its pods, and the highest-numbered of them isCur accepts (nil if none) as the current one.
func revisionsOwnedBy(w metav1.Object, kind string, crs []*appsv1.ControllerRevision, isCur func(*appsv1.ControllerRevision) bool) (cur *Revision, owned []*Revision) {
	owner := ownerOf(w, kind)
	for _, cr := range crs {
		if !metav1.IsControlledBy(cr, w) {
			continue
		}
		r := &Revision{Name: cr.Name, Number: cr.Revision, Created: cr.CreationTimestamp.Time, Owner: owner, cr: cr}
		owned = append(owned, r)
		if isCur(cr) && (cur == nil || cr.Revision > cur.Number) {
			cur = r
		}
	}
	return cur, owned
}

// ownerOf names a workload of kind as the controller of its pods.
func ownerOf(w metav1.Object, kind string) Owner {
	return Owner{Kind: kind, Name: w.GetName(), UID: w.GetUID()}
}

// revisionTemplate decodes the pod template a ControllerRevision stores (the patch the
// StatefulSet and DaemonSet controllers write holds spec.template in full).
func revisionTemplate(cr *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	raw := cr.Data.Raw
	if len(raw) == 0 && cr.Data.Object != nil {
		b, err := json.Marshal(cr.Data.Object)
		if err != nil {
			return nil, fmt.Errorf("encode controllerrevision %s: %w", cr.Name, err)
		}
		raw = b
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("controllerrevision %s holds no data", cr.Name)
	}
	var data struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("decode controllerrevision %s: %w", cr.Name, err)
	}
	if data.Spec.Template == nil {
		return nil, fmt.Errorf("controllerrevision %s holds no pod template", cr.Name)
	}
	return data.Spec.Template, nil
}
