// Copyright 2016 The Kubernetes Authors.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// Copied from k8s.io/kubectl v0.37.2 pkg/polymorphichelpers/{rollout_status,history,rollback}.go
// (the DaemonSet and StatefulSet parts) and changed for rollout-gate as README.md says: the two
// kinds keep their history the same way, in ControllerRevisions, and kubectl's two copies of
// that code are one here, told apart by a revisionKind.

package kubectlcopy

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// DaemonSetStatusViewer implements the StatusViewer interface.
type DaemonSetStatusViewer struct{}

// StatefulSetStatusViewer implements the StatusViewer interface.
type StatefulSetStatusViewer struct{}

// Status returns a message describing daemon set status, and a bool value indicating if the status is considered done.
func (s *DaemonSetStatusViewer) Status(obj runtime.Unstructured, revision int64) (string, bool, error) {
	//ignoring revision as DaemonSets does not have history yet

	daemon, err := fromUnstructured[appsv1.DaemonSet](obj)
	if err != nil {
		return "", false, err
	}

	if daemon.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return "", true, fmt.Errorf("rollout status is only available for %s strategy type", appsv1.RollingUpdateStatefulSetStrategyType)
	}
	if daemon.Generation <= daemon.Status.ObservedGeneration {
		if daemon.Status.UpdatedNumberScheduled < daemon.Status.DesiredNumberScheduled {
			return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...\n", daemon.Name, daemon.Status.UpdatedNumberScheduled, daemon.Status.DesiredNumberScheduled), false, nil
		}
		if daemon.Status.NumberAvailable < daemon.Status.DesiredNumberScheduled {
			return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...\n", daemon.Name, daemon.Status.NumberAvailable, daemon.Status.DesiredNumberScheduled), false, nil
		}
		return fmt.Sprintf("daemon set %q successfully rolled out\n", daemon.Name), true, nil
	}
	return fmt.Sprintf("Waiting for daemon set spec update to be observed...\n"), false, nil
}

// Status returns a message describing statefulset status, and a bool value indicating if the status is considered done.
func (s *StatefulSetStatusViewer) Status(obj runtime.Unstructured, revision int64) (string, bool, error) {
	sts, err := fromUnstructured[appsv1.StatefulSet](obj)
	if err != nil {
		return "", false, err
	}

	if sts.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return "", true, fmt.Errorf("rollout status is only available for %s strategy type", appsv1.RollingUpdateStatefulSetStrategyType)
	}
	if sts.Status.ObservedGeneration == 0 || sts.Generation > sts.Status.ObservedGeneration {
		return "Waiting for statefulset spec update to be observed...\n", false, nil
	}
	if sts.Spec.Replicas != nil && sts.Status.ReadyReplicas < *sts.Spec.Replicas {
		return fmt.Sprintf("Waiting for %d pods to be ready...\n", *sts.Spec.Replicas-sts.Status.ReadyReplicas), false, nil
	}
	if sts.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && sts.Spec.UpdateStrategy.RollingUpdate != nil {
		if sts.Spec.Replicas != nil && sts.Spec.UpdateStrategy.RollingUpdate.Partition != nil {
			if sts.Status.UpdatedReplicas < (*sts.Spec.Replicas - *sts.Spec.UpdateStrategy.RollingUpdate.Partition) {
				return fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...\n",
					sts.Status.UpdatedReplicas, *sts.Spec.Replicas-*sts.Spec.UpdateStrategy.RollingUpdate.Partition), false, nil
			}
		}
		return fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...\n",
			sts.Status.UpdatedReplicas), true, nil
	}
	if sts.Status.UpdateRevision != sts.Status.CurrentRevision {
		return fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...\n",
			sts.Status.UpdatedReplicas, sts.Status.UpdateRevision), false, nil
	}
	return fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...\n", sts.Status.CurrentReplicas, sts.Status.CurrentRevision), true, nil
}

// revisionKind is what differs between the kinds whose history is ControllerRevisions.
type revisionKind[T runtime.Object] struct {
	name     string
	client   func(apps client.AppsV1Interface, namespace string) revisionClient[T]
	selector func(T) *metav1.LabelSelector
	// encode serialises the object as the kind's controller does before it keeps spec.template
	// in a ControllerRevision, so that the rollbacker's "already matches" compares like bytes.
	encode func(T) ([]byte, error)
}

// revisionClient is the part of a typed client the history viewer and rollbacker call.
type revisionClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
}

var appsCodec = client.Codecs.LegacyCodec(appsv1.SchemeGroupVersion)

var daemonSets = &revisionKind[*appsv1.DaemonSet]{
	name: "DaemonSet",
	client: func(apps client.AppsV1Interface, namespace string) revisionClient[*appsv1.DaemonSet] {
		return apps.DaemonSets(namespace)
	},
	selector: func(ds *appsv1.DaemonSet) *metav1.LabelSelector { return ds.Spec.Selector },
	encode:   func(ds *appsv1.DaemonSet) ([]byte, error) { return json.Marshal(ds) },
}

var statefulSets = &revisionKind[*appsv1.StatefulSet]{
	name: "StatefulSet",
	client: func(apps client.AppsV1Interface, namespace string) revisionClient[*appsv1.StatefulSet] {
		return apps.StatefulSets(namespace)
	},
	selector: func(sts *appsv1.StatefulSet) *metav1.LabelSelector { return sts.Spec.Selector },
	encode:   func(sts *appsv1.StatefulSet) ([]byte, error) { return runtime.Encode(appsCodec, sts) },
}

// DaemonSetHistory is kubectl's DaemonSetHistoryViewer and DaemonSetRollbacker.
type DaemonSetHistory = revisionHistory[*appsv1.DaemonSet]

// StatefulSetHistory is kubectl's StatefulSetHistoryViewer and StatefulSetRollbacker.
type StatefulSetHistory = revisionHistory[*appsv1.StatefulSet]

// revisionHistory is the history viewer and rollbacker of a kind whose history is ControllerRevisions.
type revisionHistory[T runtime.Object] struct {
	c    client.Interface
	kind *revisionKind[T]
}

// GetHistory returns the revisions associated with a DaemonSet or StatefulSet
func (h *revisionHistory[T]) GetHistory(namespace, name string) (map[int64]runtime.Object, error) {
	obj, history, err := h.read(namespace, name)
	if err != nil {
		return nil, err
	}

	result := make(map[int64]runtime.Object)
	for _, cr := range history {
		applied, err := applyHistory(obj, cr)
		if err != nil {
			return nil, err
		}
		result[cr.Revision] = applied
	}

	return result, nil
}

// toRevision is a non-negative integer, with 0 being reserved to indicate rolling back to previous configuration
func (h *revisionHistory[T]) Rollback(obj runtime.Object, updatedAnnotations map[string]string, toRevision int64, dryRunStrategy DryRunStrategy) (string, error) {
	if toRevision < 0 {
		return "", revisionNotFoundErr(toRevision)
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("failed to create accessor for kind %v: %w", obj.GetObjectKind(), err)
	}
	current, history, err := h.read(accessor.GetNamespace(), accessor.GetName())
	if err != nil {
		return "", err
	}
	if toRevision == 0 && len(history) <= 1 {
		return "", fmt.Errorf("no last revision to roll back to")
	}

	toHistory := findHistory(toRevision, history)
	if toHistory == nil {
		return "", revisionNotFoundErr(toRevision)
	}

	// Skip if the revision already matches the current template
	done, err := h.kind.match(current, toHistory)
	if err != nil {
		return "", err
	}
	if done {
		return rollbackSkippedMsg(toRevision), nil
	}

	// Restore revision
	client := h.kind.client(h.c.AppsV1(), accessor.GetNamespace())
	if _, err = client.Patch(context.TODO(), accessor.GetName(), types.StrategicMergePatchType, toHistory.Data.Raw, patchOptions(dryRunStrategy)); err != nil {
		return "", fmt.Errorf("failed restoring revision %d: %v", toRevision, err)
	}

	return rollbackSuccess, nil
}

// read returns the workload named name in namespace and all ControllerRevisions in its history
// (kubectl's daemonSetHistory and statefulSetHistory).
func (h *revisionHistory[T]) read(namespace, name string) (T, []*appsv1.ControllerRevision, error) {
	var none T
	k := h.kind
	obj, err := k.client(h.c.AppsV1(), namespace).Get(context.TODO(), name, metav1.GetOptions{})
	if err != nil {
		return none, nil, fmt.Errorf("failed to retrieve %s %s: %w", k.name, name, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(k.selector(obj))
	if err != nil {
		return none, nil, fmt.Errorf("failed to create selector for %s %s: %w", k.name, name, err)
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return none, nil, fmt.Errorf("failed to obtain accessor for %s %s: %w", k.name, name, err)
	}
	history, err := controlledHistory(h.c.AppsV1(), namespace, selector, accessor)
	if err != nil {
		return none, nil, fmt.Errorf("unable to find history controlled by %s %s: %v", k.name, name, err)
	}
	return obj, history, nil
}

// controlledHistories returns all ControllerRevisions in namespace that selected by selector and owned by accessor
func controlledHistory(
	apps client.AppsV1Interface,
	namespace string,
	selector labels.Selector,
	accessor metav1.Object) ([]*appsv1.ControllerRevision, error) {
	var result []*appsv1.ControllerRevision
	historyList, err := apps.ControllerRevisions(namespace).List(context.TODO(), metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	for i := range historyList.Items {
		history := historyList.Items[i]
		// Only add history that belongs to the API object
		if metav1.IsControlledBy(&history, accessor) {
			result = append(result, &history)
		}
	}
	return result, nil
}

// applyHistory returns a specific revision of a DaemonSet or StatefulSet by applying the given history to a copy of it
func applyHistory[T runtime.Object](obj T, history *appsv1.ControllerRevision) (T, error) {
	var result T
	objBytes, err := json.Marshal(obj)
	if err != nil {
		return result, err
	}
	patched, err := strategicpatch.StrategicMergePatch(objBytes, history.Data.Raw, obj)
	if err != nil {
		return result, err
	}
	err = json.Unmarshal(patched, &result)
	if err != nil {
		return result, err
	}
	return result, nil
}

// match checks if the given workload's template matches the template stored in the given history.
func (k *revisionKind[T]) match(obj T, history *appsv1.ControllerRevision) (bool, error) {
	patch, err := k.patch(obj)
	if err != nil {
		return false, err
	}
	return bytes.Equal(patch, history.Data.Raw), nil
}

// patch returns a strategic merge patch that can be applied to restore a DaemonSet or StatefulSet to a
// previous version. If the returned error is nil the patch is valid. The current state that we save is just the
// PodSpecTemplate. We can modify this later to encompass more state (or less) and remain compatible with previously
// recorded patches.
func (k *revisionKind[T]) patch(obj T) ([]byte, error) {
	objBytes, err := k.encode(obj)
	if err != nil {
		return nil, err
	}
	var raw map[string]interface{}
	if err := json.Unmarshal(objBytes, &raw); err != nil {
		return nil, err
	}
	objCopy := make(map[string]interface{})
	specCopy := make(map[string]interface{})

	// Create a patch of the workload that replaces spec.template
	spec := raw["spec"].(map[string]interface{})
	template := spec["template"].(map[string]interface{})
	specCopy["template"] = template
	template["$patch"] = "replace"
	objCopy["spec"] = specCopy
	patch, err := json.Marshal(objCopy)
	return patch, err
}

// findHistory returns a controllerrevision of a specific revision from the given controllerrevisions.
// It returns nil if no such controllerrevision exists.
// If toRevision is 0, the last previously used history is returned.
func findHistory(toRevision int64, allHistory []*appsv1.ControllerRevision) *appsv1.ControllerRevision {
	if toRevision == 0 && len(allHistory) <= 1 {
		return nil
	}

	// Find the history to rollback to
	var toHistory *appsv1.ControllerRevision
	if toRevision == 0 {
		// If toRevision == 0, find the latest revision (2nd max)
		sort.Sort(historiesByRevision(allHistory))
		toHistory = allHistory[len(allHistory)-2]
	} else {
		for _, h := range allHistory {
			if h.Revision == toRevision {
				// If toRevision != 0, find the history with matching revision
				return h
			}
		}
	}

	return toHistory
}

// TODO: copied from daemon controller, should extract to a library
type historiesByRevision []*appsv1.ControllerRevision

func (h historiesByRevision) Len() int      { return len(h) }
func (h historiesByRevision) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h historiesByRevision) Less(i, j int) bool {
	return h[i].Revision < h[j].Revision
}
