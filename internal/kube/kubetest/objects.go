package kubetest

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Deployment is Deployment ns/name at generation gen, as its controller has seen it: replicas
// pods of one container "app" running image, updated of them on the current template and ready
// of them ready and available. Its UID is "uid-"+name.
func Deployment(ns, name, image string, gen int64, replicas, updated, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: gen, UID: types.UID("uid-" + name)},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: gen, Replicas: replicas, UpdatedReplicas: updated,
			ReadyReplicas: ready, AvailableReplicas: ready},
	}
}

// PastDeadline gives d the condition the deployment controller sets when a rollout passes its
// progress deadline (Progressing=False, ProgressDeadlineExceeded) with msg, and returns d.
func PastDeadline(d *appsv1.Deployment, msg string) *appsv1.Deployment {
	d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing,
		Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: msg})
	return d
}

// ReplicaSetFor is the ReplicaSet the deployment controller makes for d's current template at
// revision rev: named after d and rev, controlled by d.
func ReplicaSetFor(d *appsv1.Deployment, rev int) *appsv1.ReplicaSet {
	r := strconv.Itoa(rev)
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + r, Namespace: d.Namespace,
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": r},
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: d.Spec.Template}}
}

// WarningEvent is a Warning event about kind ns/name, first and last seen now.
func WarningEvent(ns, kind, name, reason, msg string) *corev1.Event {
	now := metav1.Now()
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name + "." + reason, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: ns},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: msg, Count: 1,
		FirstTimestamp: now, LastTimestamp: now}
}
