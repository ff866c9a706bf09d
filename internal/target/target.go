// Package target decides which workloads the gate judges: the objects of the applied manifests
// (-f), the ones named with --workload, and the Deployments, StatefulSets and DaemonSets matching
// a label selector (-l). The rollout kinds are known without the cluster; every other kind is
// resolved through the API server's discovery (Resolve): judged by its status when it has one,
// else returned as skipped with the reason, so the report can say it was seen and not ignored
// silently.
package target

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Kinds the gate can judge.
const (
	Deployment  = workload.Deployment
	StatefulSet = workload.StatefulSet
	DaemonSet   = workload.DaemonSet
	Job         = workload.Job
)

// Target is one workload to judge, or to report as skipped.
type Target struct {
	// Kind is the kind as the API spells it (Deployment, Certificate); before Resolve, for a
	// --workload of a kind outside the switch, the type as the user typed it (certificates.cert-manager.io).
	Kind string
	// APIVersion is the group/version a manifest declared, or Resolve found ("" until then for
	// --workload).
	APIVersion string
	Namespace  string // "" for a cluster-scoped kind
	Name       string
	// File and Line say where a manifest declared it (empty for --workload and -l).
	File string
	Line int
	// Skipped is set for kinds the gate cannot judge; Why says why, for the report.
	Skipped bool
	Why     string
	// Resolved is the Kind Resolve decided for a target it judges: a rollout kind or a Job by the
	// one switch (workload.Lookup), any other through the REST mapper. What the kind can do is
	// read from it from then on, never looked up again.
	Resolved workload.Kind
	// Helm is set for the resources of a Helm release (--helm-release); File is then the chart
	// template that rendered it and Line is 0.
	Helm *HelmSource
	// Kustomization is set for the objects of a -k build: File and Line are then the file
	// kustomize read the object from, and this names the -k folder and what changed the object.
	Kustomization *KustomizeSource
}

// Ref names the target: its kind, namespace and name.
func (w Target) Ref() report.Ref {
	return report.Ref{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}
}

// Key identifies a workload across sources; a kind found through the REST mapper is told apart
// by its group too (the kinds of the switch are known by their name alone).
func (w Target) Key() string {
	if _, switchKind := w.Resolved.(workload.PodKind); w.Resolved != nil && !switchKind {
		return workload.Key(w.Resolved) + "/" + w.Namespace + "/" + w.Name
	}
	return w.Kind + "/" + w.Namespace + "/" + w.Name
}

// KindOf is the workload's Kind: the one Resolve decided; for a target made without Resolve (a
// rollback's verification, tests), the rollout kind or Job the switch knows.
func (w Target) KindOf() (workload.Kind, bool) {
	if w.Resolved != nil {
		return w.Resolved, true
	}
	return workload.Lookup(w.Kind)
}

// resourceArg is a type as kubectl takes it: pvc, pods, certificates.cert-manager.io,
// certificate.v1.cert-manager.io, Rollout.
var resourceArg = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// ParseRef parses a --workload value such as "deploy/api" or "statefulset/db".
func ParseRef(s string) (kind, name string, err error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok || n == "" || strings.Contains(n, "/") {
		return "", "", fault.Invalidf("--workload %q: want KIND/NAME, e.g. deployment/api, statefulset/db, daemonset/agent or job/migrate", s)
	}
	if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
		return "", "", fault.Invalidf("--workload %q: %q is not a valid name (%s)", s, n, errs[0])
	}
	if found, ok := workload.Lookup(k); ok {
		return found.Name(), n, nil
	}
	// Any other type is resolved through the cluster's discovery (Resolve).
	if !resourceArg.MatchString(k) || len(k) > 253 {
		return "", "", fault.Invalidf("--workload %q: %q is not a kind; use deployment (deploy), statefulset (sts), daemonset (ds), job, or any type as kubectl spells it (pvc, certificates.cert-manager.io)", s, k)
	}
	return k, n, nil
}

// Judgeable reports whether the gate can judge a kind (as a manifest spells it).
func Judgeable(kind string) bool {
	k, ok := workload.Lookup(kind)
	return ok && k.Name() == kind
}

// Dedupe keeps the first occurrence of each workload and sorts judged workloads before skipped ones,
// keeping the input order otherwise.
func Dedupe(ws []Target) []Target {
	seen := map[string]bool{}
	var out []Target
	for _, w := range ws {
		if seen[w.Key()] {
			continue
		}
		seen[w.Key()] = true
		out = append(out, w)
	}
	sort.SliceStable(out, func(i, j int) bool { return !out[i].Skipped && out[j].Skipped })
	return out
}

// String lists workloads for messages.
func String(ws []Target) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s -n %s", w.Ref(), w.Namespace))
	}
	return strings.Join(parts, ", ")
}
