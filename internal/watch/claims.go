package watch

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// A claim whose StorageClass does not exist never binds, and its pod stays Pending for good. The
// scheduler says only "pod has unbound immediate PersistentVolumeClaims" (it takes a class it
// cannot find for an Immediate one), and the PV controller's ProvisioningFailed is on the claim,
// whose events the watch does not read (and a cluster may run no PV controller). So for a pod the
// scheduler holds back for its claims, the watch asks the API: one get of each claim and of the
// StorageClass it names, once per watch. A class that does not exist becomes words for the
// finality table (finality.go), the path a claim that does not exist already takes.

// claimFacts is what the watch learned of the claims of one namespace.
type claimFacts struct {
	client client.Interface
	ns     string
	// said maps a claim's name to the API's word that it cannot bind ("" when it can, or may).
	said map[string]string
	// unchecked says what could not be read (RBAC), once per claim.
	unchecked map[string]string
}

func newClaimFacts(c client.Interface, ns string) *claimFacts {
	return &claimFacts{client: c, ns: ns, said: map[string]string{}, unchecked: map[string]string{}}
}

// check reads the claims of the pods that wait for them and returns, by claim name, the words of
// those that cannot bind, and the notes of what it could not check. A read that failed for a
// reason other than RBAC is tried again on the next judgement.
func (f *claimFacts) check(ctx context.Context, pods []*corev1.Pod) (said map[string]string, unchecked []string) {
	if f == nil {
		return nil, nil
	}
	for _, pod := range pods {
		cond := podstate.Condition(pod, corev1.PodScheduled)
		if cond == nil || cond.Status != corev1.ConditionFalse || !podstate.WaitsForClaims(cond.Message) {
			continue
		}
		for _, cl := range podstate.Claims(pod) {
			if _, done := f.said[cl.Name]; !done {
				if _, done := f.unchecked[cl.Name]; !done {
					f.read(ctx, cl.Name)
				}
			}
			if s := f.said[cl.Name]; s != "" {
				if said == nil {
					said = map[string]string{}
				}
				said[cl.Name] = s
			}
			if u := f.unchecked[cl.Name]; u != "" {
				unchecked = append(unchecked, u)
			}
		}
	}
	return said, unchecked
}

// read learns one claim's fact: nothing to say (bound, no class named, the class exists, or the
// claim does not exist, which the scheduler says itself), a class that does not exist, or that it
// could not check.
func (f *claimFacts) read(ctx context.Context, name string) {
	// The judge waits on these reads: a frozen API server must not hold it past readTimeout.
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	pvc, err := f.client.CoreV1().PersistentVolumeClaims(f.ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return // the scheduler names a missing claim; it may also be created a moment later
	case apierrors.IsForbidden(err):
		f.unchecked[name] = fmt.Sprintf("could not check PersistentVolumeClaim %s: %v; an unknown StorageClass waits out --pending-grace (add get on persistentvolumeclaims from deploy/rbac.yaml)",
			name, kube.Explain(err, "get persistentvolumeclaim "+name+" -n "+f.ns, "get", corev1.Resource("persistentvolumeclaims")))
		return
	case err != nil:
		return
	}
	class := pvc.Spec.StorageClassName
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase == corev1.ClaimBound || class == nil || *class == "" {
		f.said[name] = ""
		return
	}
	_, err = f.client.StorageV1().StorageClasses().Get(ctx, *class, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// The PV controller's own words for it (ProvisioningFailed), so the finality table reads
		// the same message whichever way it was learned.
		f.said[name] = fmt.Sprintf("PersistentVolumeClaim %s asks for StorageClass %s: storageclass.storage.k8s.io %q not found", name, *class, *class)
	case apierrors.IsForbidden(err):
		f.unchecked[name] = fmt.Sprintf("could not check StorageClass %s of PersistentVolumeClaim %s: %v; if it does not exist, the rollout fails only after --pending-grace (add get on storageclasses from deploy/rbac.yaml)",
			*class, name, kube.Explain(err, "get storageclass "+*class, "get", schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}))
	case err == nil:
		f.said[name] = ""
	}
}
