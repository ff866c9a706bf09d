// Package target decides which workloads the gate judges: the Deployments, StatefulSets,
// DaemonSets and Jobs of the applied manifests (-f), the ones named with --workload, and the
// Deployments, StatefulSets and DaemonSets matching a label selector (-l). Kinds the gate cannot
// judge (CronJobs among them) are returned as skipped, so the report can say they were seen and
// not ignored silently.
package target

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Kinds the gate can judge.
const (
	Deployment  = workload.Deployment
	StatefulSet = workload.StatefulSet
	DaemonSet   = workload.DaemonSet
	Job         = workload.Job
)

// Workload is one workload to judge, or to report as skipped.
type Workload struct {
	Kind      string // Deployment, StatefulSet, DaemonSet, Job; or any other kind when Skipped
	Namespace string
	Name      string
	// File and Line say where a manifest declared it (empty for --workload and -l).
	File string
	Line int
	// Skipped is set for kinds the gate cannot judge.
	Skipped bool
	// Helm is set for the resources of a Helm release (--helm-release); File is then the chart
	// template that rendered it and Line is 0.
	Helm *HelmSource
}

// Ref is "deployment/api", as kubectl spells it.
func (w Workload) Ref() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// Key identifies a workload across sources.
func (w Workload) Key() string { return w.Kind + "/" + w.Namespace + "/" + w.Name }

// ParseRef parses a --workload value such as "deploy/api" or "statefulset/db".
func ParseRef(s string) (kind, name string, err error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok || n == "" || strings.Contains(n, "/") {
		return "", "", fault.Invalidf("--workload %q: want KIND/NAME, e.g. deployment/api, statefulset/db, daemonset/agent or job/migrate", s)
	}
	found, ok := workload.Lookup(k)
	if !ok {
		return "", "", fault.Invalidf("--workload %q: unknown kind %q; use deployment (deploy), statefulset (sts), daemonset (ds) or job", s, k)
	}
	if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
		return "", "", fault.Invalidf("--workload %q: %q is not a valid name (%s)", s, n, errs[0])
	}
	return found.Name(), n, nil
}

// Judgeable reports whether the gate can judge a kind (as a manifest spells it).
func Judgeable(kind string) bool {
	k, ok := workload.Lookup(kind)
	return ok && k.Name() == kind
}

// Dedupe keeps the first occurrence of each workload and sorts judged workloads before skipped ones,
// keeping the input order otherwise.
func Dedupe(ws []Workload) []Workload {
	seen := map[string]bool{}
	var out []Workload
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
func String(ws []Workload) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s -n %s", w.Ref(), w.Namespace))
	}
	return strings.Join(parts, ", ")
}
