/*
Copyright 2018 The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package kubectlcopy is kubectl's `rollout status`, `rollout history` and `rollout undo` code
// for Deployments, StatefulSets and DaemonSets, copied from k8s.io/kubectl v0.37.2
// (pkg/polymorphichelpers and pkg/util/deployment) with as few changes as possible.
//
// It is a copy rather than an import because those packages import k8s.io/kubectl/pkg/cmd/util
// and k8s.io/cli-runtime/pkg/resource, which bring kustomize, cobra, the OpenAPI validators and
// kubectl's describers into the gate: a third of its binary and a slower start, for code the gate
// never runs. README.md lists what was copied, what was left out and how to update the copy.
package kubectlcopy

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
