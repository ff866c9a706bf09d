package diagnose

import (
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	revisionAnnotation = "deployment.kubernetes.io/revision"
	podTemplateHash    = "pod-template-hash"
	revisionHashLabel  = "controller-revision-hash"
)

// ownedBy reports whether obj's controller is owner (by UID; by kind and name when the owner has
// no UID, as in recorded fixtures).
func ownedBy(obj metav1.Object, owner metav1.Object, kind string) bool {
	for _, r := range obj.GetOwnerReferences() {
		if r.Kind != kind || (r.Controller != nil && !*r.Controller) {
			continue
		}
		if owner.GetUID() != "" && r.UID == owner.GetUID() {
			return true
		}
		if (owner.GetUID() == "" || r.UID == "") && r.Name == owner.GetName() {
			return true
		}
	}
	return false
}

func rsRevision(rs *appsv1.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
	return n
}

// deploymentRevisions picks the new ReplicaSet (the Deployment's revision, or the one the pods
// belong to) and the previous one (the highest revision below it) among those the Deployment owns.
func deploymentRevisions(dep *appsv1.Deployment, rss []appsv1.ReplicaSet, pods []corev1.Pod) (newRS, prevRS *appsv1.ReplicaSet) {
	var owned []*appsv1.ReplicaSet
	for i := range rss {
		if ownedBy(&rss[i], dep, "Deployment") {
			owned = append(owned, &rss[i])
		}
	}
	want := dep.Annotations[revisionAnnotation]
	hash := ""
	if len(pods) > 0 {
		hash = pods[0].Labels[podTemplateHash]
	}
	for _, rs := range owned {
		if hash != "" && rs.Labels[podTemplateHash] == hash {
			newRS = rs
			break
		}
	}
	if newRS == nil {
		for _, rs := range owned {
			if want != "" && rs.Annotations[revisionAnnotation] == want {
				newRS = rs
				break
			}
		}
	}
	if newRS == nil {
		for _, rs := range owned {
			if newRS == nil || rsRevision(rs) > rsRevision(newRS) {
				newRS = rs
			}
		}
	}
	if newRS == nil {
		return nil, nil
	}
	for _, rs := range owned {
		if rs != newRS && rsRevision(rs) < rsRevision(newRS) && (prevRS == nil || rsRevision(rs) > rsRevision(prevRS)) {
			prevRS = rs
		}
	}
	return newRS, prevRS
}

// controllerRevisions picks the new and previous ControllerRevision of a StatefulSet or DaemonSet:
// the new one is the StatefulSet's updateRevision or the one the pods carry in their
// controller-revision-hash label; the previous one is the highest revision below it.
func controllerRevisions(owner metav1.Object, kind, updateRevision string, crs []appsv1.ControllerRevision, pods []corev1.Pod) (newCR, prevCR *appsv1.ControllerRevision) {
	var owned []*appsv1.ControllerRevision
	for i := range crs {
		if ownedBy(&crs[i], owner, kind) {
			owned = append(owned, &crs[i])
		}
	}
	hash := ""
	if len(pods) > 0 {
		hash = pods[0].Labels[revisionHashLabel]
	}
	for _, cr := range owned {
		if hash != "" && (cr.Name == hash || cr.Labels[revisionHashLabel] == hash || cr.Name == owner.GetName()+"-"+hash) {
			newCR = cr
			break
		}
	}
	if newCR == nil && updateRevision != "" {
		for _, cr := range owned {
			if cr.Name == updateRevision {
				newCR = cr
			}
		}
	}
	if newCR == nil {
		for _, cr := range owned {
			if newCR == nil || cr.Revision > newCR.Revision {
				newCR = cr
			}
		}
	}
	if newCR == nil {
		return nil, nil
	}
	for _, cr := range owned {
		if cr != newCR && cr.Revision < newCR.Revision && (prevCR == nil || cr.Revision > prevCR.Revision) {
			prevCR = cr
		}
	}
	return newCR, prevCR
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
