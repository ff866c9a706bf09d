package watch

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The caches hold thousands of pods on a platform-sized release: each is cut down, as it
// arrives, to what the judge reads (leanPod), and the pods of the workloads to diagnose are read
// again in full once the watch is over (observe.go). Managed fields go from every cached object.

// lean is the informers' transform.
func lean(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return leanPod(p), nil
	}
	return stripManagedFields(obj)
}

// stripManagedFields keeps the caches small: the judge never reads managed fields.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// leanEvent is the events informer's transform: managed fields go, and a folded event's message
// loses the aggregator's prefix (podstate.EventMessage), so that the probe rules still read
// "Liveness probe ..." once the kubelet's events are combined.
func leanEvent(obj any) (any, error) {
	if e, ok := obj.(*corev1.Event); ok {
		e.Message = podstate.EventMessage(e)
	}
	return stripManagedFields(obj)
}

// leanPod keeps of a pod its identity, labels and owners, its whole status, and of its spec
// what the judge reads: the node, the restart policy, and each container's name, restart policy
// and probes (probes.go), and the volumes that name a claim (claims.go). Annotations, other
// volumes, environment, commands and the rest are dropped.
func leanPod(p *corev1.Pod) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Generation: p.Generation, CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
			Labels: p.Labels, OwnerReferences: p.OwnerReferences,
		},
		Spec: corev1.PodSpec{
			NodeName: p.Spec.NodeName, RestartPolicy: p.Spec.RestartPolicy,
			InitContainers: leanContainers(p.Spec.InitContainers), Containers: leanContainers(p.Spec.Containers),
			Volumes: claimVolumes(p.Spec.Volumes),
		},
		Status: p.Status,
	}
}

// claimVolumes keeps the volumes that name a claim (claims.go), and of each only that: the name,
// the claim's name, or that it is ephemeral (its claim is named after the pod and the volume).
func claimVolumes(vs []corev1.Volume) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range vs {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim.ClaimName}}})
		case v.Ephemeral != nil:
			out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
		}
	}
	return out
}

func leanContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy,
			LivenessProbe: c.LivenessProbe, ReadinessProbe: c.ReadinessProbe, StartupProbe: c.StartupProbe}
	}
	return out
}
