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

// Package kubectlcopy is kubectl's `rollout status`, `rollout history` and `rollout undo` code
// for Deployments, StatefulSets and DaemonSets, copied from k8s.io/kubectl v0.37.2
// (pkg/polymorphichelpers and pkg/util/deployment) and cut down to what the gate runs.
//
// It is a copy rather than an import because those packages import k8s.io/kubectl/pkg/cmd/util
// and k8s.io/cli-runtime/pkg/resource, which bring kustomize, cobra, the OpenAPI validators and
// kubectl's describers into the gate: a third of its binary and a slower start, for code the gate
// never runs. README.md lists what was copied, what was changed and how to update the copy.
//
// Copied from k8s.io/kubectl v0.37.2 pkg/polymorphichelpers/{rollout_status,history,rollback}.go
// (the interfaces and the functions that choose an implementation) and pkg/cmd/util
// (DryRunStrategy), and changed for rollout-gate as README.md says.
package kubectlcopy

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// StatusViewer provides an interface for resources that have rollout status.
type StatusViewer interface {
	Status(obj runtime.Unstructured, revision int64) (string, bool, error)
}

// HistoryViewer provides an interface for resources have historical information.
type HistoryViewer interface {
	GetHistory(namespace, name string) (map[int64]runtime.Object, error)
}

// Rollbacker provides an interface for resources that can be rolled back.
type Rollbacker interface {
	Rollback(obj runtime.Object, updatedAnnotations map[string]string, toRevision int64, dryRunStrategy DryRunStrategy) (string, error)
}

// DryRunStrategy is the part of k8s.io/kubectl/pkg/cmd/util's DryRunStrategy the rollbackers
// read: no dry run, or a server-side one. kubectl's client-side dry run prints the pod template
// with kubectl's describer and is not carried.
type DryRunStrategy int

const (
	// DryRunNone changes the workload.
	DryRunNone DryRunStrategy = iota
	// DryRunServer sends the patch with dryRun=All: the API server validates it and changes nothing.
	DryRunServer
)

// history is kubectl's history viewer and rollbacker of one kind, as one value: both read the
// same revisions through the same client.
type history interface {
	HistoryViewer
	Rollbacker
}

// rolloutKind is what kubectl does for one kind of workload.
type rolloutKind struct {
	status  StatusViewer
	history func(c client.Interface) history
}

// kindFor is the one switch over kinds, in place of kubectl's apps.GroupKindElement visitors and
// StatusViewerFor's switch. It accepts the groups they do: apps, and extensions for Deployments
// and DaemonSets.
func kindFor(kind schema.GroupKind) (rolloutKind, bool) {
	switch kind {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "extensions", Kind: "Deployment"}:
		return rolloutKind{&DeploymentStatusViewer{}, func(c client.Interface) history { return &DeploymentHistory{c} }}, true
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, schema.GroupKind{Group: "extensions", Kind: "DaemonSet"}:
		return rolloutKind{&DaemonSetStatusViewer{}, func(c client.Interface) history { return &DaemonSetHistory{c, daemonSets} }}, true
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		return rolloutKind{&StatefulSetStatusViewer{}, func(c client.Interface) history { return &StatefulSetHistory{c, statefulSets} }}, true
	}
	return rolloutKind{}, false
}

// StatusViewerFor returns a StatusViewer for the resource specified by kind.
func StatusViewerFor(kind schema.GroupKind) (StatusViewer, error) {
	if k, ok := kindFor(kind); ok {
		return k.status, nil
	}
	return nil, fmt.Errorf("no status viewer has been implemented for %v", kind)
}

// HistoryViewerFor returns an implementation of HistoryViewer interface for the given schema kind
func HistoryViewerFor(kind schema.GroupKind, c client.Interface) (HistoryViewer, error) {
	if k, ok := kindFor(kind); ok {
		return k.history(c), nil
	}
	return nil, fmt.Errorf("no history viewer has been implemented for %q", kind.String())
}

// RollbackerFor returns an implementation of Rollbacker interface for the given schema kind
func RollbackerFor(kind schema.GroupKind, c client.Interface) (Rollbacker, error) {
	if k, ok := kindFor(kind); ok {
		return k.history(c), nil
	}
	return nil, fmt.Errorf("no rollbacker has been implemented for %q", kind)
}

// fromUnstructured is how each status viewer reads the object it is given.
func fromUnstructured[T any](obj runtime.Unstructured) (*T, error) {
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.UnstructuredContent(), out); err != nil {
		return nil, fmt.Errorf("failed to convert %T to %T: %v", obj, out, err)
	}
	return out, nil
}

const (
	rollbackSuccess = "rolled back"
	rollbackSkipped = "skipped rollback"
)

func rollbackSkippedMsg(toRevision int64) string {
	return fmt.Sprintf("%s (current template already matches revision %d)", rollbackSkipped, toRevision)
}

func patchOptions(dryRunStrategy DryRunStrategy) metav1.PatchOptions {
	patchOptions := metav1.PatchOptions{}
	if dryRunStrategy == DryRunServer {
		patchOptions.DryRun = []string{metav1.DryRunAll}
	}
	return patchOptions
}

func revisionNotFoundErr(r int64) error {
	return fmt.Errorf("unable to find specified revision %v in history", r)
}
