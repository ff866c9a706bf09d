package podstate

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Condition returns the pod's condition of type t, or nil.
func Condition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// Ready reports whether the pod's Ready condition is true.
func Ready(pod *corev1.Pod) bool {
	c := Condition(pod, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

// ReadySince is when the pod last turned Ready, or zero when it is not Ready or the moment is
// not on record.
func ReadySince(pod *corev1.Pod) time.Time {
	if c := Condition(pod, corev1.PodReady); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// ScheduledAt is when the pod was bound to a node, or its creation when that is not on record:
// start-up errors are timed from there.
func ScheduledAt(pod *corev1.Pod) time.Time {
	if c := Condition(pod, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time
	}
	return pod.CreationTimestamp.Time
}

// Spec finds the spec of a container by name: app containers, then init containers.
func Spec(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	return nil
}

// IsSidecar: an init container with restartPolicy Always runs for the pod's life beside the app
// containers, and the kubelet probes and restarts it like them.
func IsSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// LongRunning lists the statuses of the containers that run for the pod's life: app containers
// and sidecars.
func LongRunning(pod *corev1.Pod) []corev1.ContainerStatus {
	out := append([]corev1.ContainerStatus(nil), pod.Status.ContainerStatuses...)
	for _, cs := range pod.Status.InitContainerStatuses {
		if IsSidecar(Spec(pod, cs.Name)) {
			out = append(out, cs)
		}
	}
	return out
}

// Claim is one PersistentVolumeClaim a pod's volume uses.
type Claim struct {
	Volume string // the pod volume's name
	Name   string // the claim's name
	Index  int    // of the volume in spec.volumes
}

// Claims lists the claims of pod's volumes: a persistentVolumeClaim volume names its claim, and
// the claim of an ephemeral volume is named <pod>-<volume> (the ephemeral volume controller's
// rule). A StatefulSet's volumeClaimTemplates reach its pods as persistentVolumeClaim volumes.
func Claims(pod *corev1.Pod) []Claim {
	var out []Claim
	for i, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, Claim{Volume: v.Name, Name: v.PersistentVolumeClaim.ClaimName, Index: i})
		case v.Ephemeral != nil:
			out = append(out, Claim{Volume: v.Name, Name: pod.Name + "-" + v.Name, Index: i})
		}
	}
	return out
}

// WaitsForClaims says whether the scheduler's message is about claims that are not bound: "pod
// has unbound immediate PersistentVolumeClaims" (a claim whose StorageClass does not exist is
// taken as immediate, so a missing class ends here too) or a wait for volume binding.
func WaitsForClaims(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "unbound immediate persistentvolumeclaims") || strings.Contains(m, "volume binding")
}
