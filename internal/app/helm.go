package app

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/rollout-gate/rollout-gate/internal/helmrelease"
	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/rollback"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/watch"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// helmTargets resolves --helm-release: the resources of the release's current revision (the
// highest stored version) in namespace ns, read where HELM_DRIVER says Helm stores it.
//
// The status of that revision does not change what is gated, only what the progress log says:
//   - pending-install, pending-upgrade, pending-rollback: Helm has not finished (it is still
//     running, or it was killed half-way). The gate judges what the revision rendered anyway: the
//     resources Helm applied are rolling out, and one it had not applied yet is "not found" (exit 3)
//     with the usual hint, which is the truth about a half-done upgrade.
//   - failed: Helm gave up (an apply error, or its own wait timed out). helm's own exit status has
//     already failed the job; the gate still says what each workload is doing, and why.
//   - uninstalled: nothing is left to gate, an input error (exit 2), as is a release not found.
func helmTargets(ctx context.Context, c client.Interface, name, ns string, d Deps) ([]target.Target, error) {
	drivers, err := helmrelease.Drivers(d.Getenv("HELM_DRIVER"))
	if err != nil {
		return nil, err
	}
	rel, err := helmrelease.Current(ctx, c, ns, name, drivers)
	if err != nil {
		return nil, err
	}
	for _, why := range rel.Ignored {
		fmt.Fprintf(d.Progress, "warning: helm release %s -n %s: ignored a record that does not follow Helm's storage conventions: %s\n", rel.Name, rel.Namespace, why)
	}
	fmt.Fprintf(d.Progress, "helm release %s -n %s: revision %d (%s, stored in %s)\n", rel.Name, rel.Namespace, rel.Version, rel.Info.Status, rel.Driver)
	switch {
	case rel.Pending():
		fmt.Fprintf(d.Progress, "helm release %s: revision %d is still %s: Helm has not finished it (still running, or interrupted); gating what it rendered\n", rel.Name, rel.Version, rel.Info.Status)
	case rel.Info.Status == helmrelease.StatusFailed:
		fmt.Fprintf(d.Progress, "helm release %s: Helm marked revision %d failed (see `helm history %s -n %s`); gating what it rendered\n", rel.Name, rel.Version, rel.Name, rel.Namespace)
	}
	ws, err := target.FromHelmRelease(rel)
	if err != nil {
		return nil, err
	}
	ws, gone, err := target.DropDeletedHooks(ctx, c, ws)
	if err != nil {
		return nil, err
	}
	for _, g := range gone {
		fmt.Fprintf(d.Progress, "helm release %s: hook %s (%s) ran and was deleted by its helm.sh/hook-delete-policy; not gated\n", rel.Name, g.Ref(), g.Helm.Hook)
	}
	return ws, nil
}

// helmNamespaces skips the release's resources that name a namespace other than the release's
// own, unless the CI opted in: anyone who can write a Secret in the release's namespace can plant
// a record naming kube-system's or another team's workloads, which the gate would then watch,
// quote in the PR comment and, with --rollback, roll back. Either way each one is named.
func helmNamespaces(ws []target.Target, ns string, cross bool, progress io.Writer) []target.Target {
	for i := range ws {
		w := &ws[i]
		if w.Helm == nil || w.Namespace == ns || w.Namespace == "" || w.Skipped { // "": cluster-scoped
			continue
		}
		if cross {
			fmt.Fprintf(progress, "helm release: gating %s in namespace %s, outside the release's namespace %s (--helm-cross-namespace)\n", w.Ref(), w.Namespace, ns)
			continue
		}
		w.Skipped = true
		w.Why = fmt.Sprintf("the release renders it in namespace %s, outside its own namespace %s; a release record can name any namespace, so it is gated only with --helm-cross-namespace", w.Namespace, ns)
		fmt.Fprintf(progress, "warning: helm release: %s in namespace %s not gated: outside the release's namespace %s; pass --helm-cross-namespace to gate it\n", w.Ref(), w.Namespace, ns)
	}
	return ws
}

// helmRollBack rolls the --helm-release back with Helm when any of its workloads failed and may
// be rolled back, once for the whole release, and fills in out for each of the release's failed
// workloads; rollBack handles what it leaves nil. The release goes back as a whole or not at all:
// a timeout still progressing does not start it (unless --rollback-on-timeout), and one failed
// workload whose rollout-gate.io/rollback annotation is "false" holds it for every workload,
// since Helm cannot roll back the rest without that one.
func helmRollBack(ctx context.Context, rb *rollback.Rollbacker, o *Options, d Deps, results []watch.Result, out []*undo) {
	var idx []int
	var rel *target.HelmSource
	held := ""
	for i, res := range results {
		h := res.Workload.Helm
		if h == nil || !res.Verdict.Failing() || leftInPlace(res, o) {
			continue
		}
		rel = h
		idx = append(idx, i)
		if res.Settings.NoRollback && held == "" {
			held = res.Workload.Ref().String()
		}
	}
	if rel == nil {
		return
	}
	began := d.Now()
	var rbs []report.Rollback
	if held != "" {
		msg := fmt.Sprintf("not rolled back: %s of Helm release %s has %s \"false\", and Helm rolls back the whole release or nothing, so the failed revision %d stays in place for every workload of it",
			held, rel.Release, workload.AnnotationRollback, rel.Revision)
		rbs = make([]report.Rollback, len(idx))
		for i := range rbs {
			rbs[i] = report.Rollback{Status: report.RollbackSkipped, Message: msg}
		}
	} else {
		fmt.Fprintf(d.Progress, "helm release %s -n %s: rolling back with Helm%s\n", rel.Release, rel.Namespace, map[bool]string{true: " (dry run)"}[rb.DryRun])
		failed := make([]rollback.HelmWorkload, len(idx))
		for j, i := range idx {
			k, _ := results[i].Workload.KindOf()
			failed[j] = rollback.HelmWorkload{Kind: k, Ref: results[i].Workload.Ref()}
		}
		rbs = rb.HelmRollback(ctx, rollback.HelmRelease{Name: rel.Release, Namespace: rel.Namespace, Driver: rel.Driver, Judged: rel.Revision, Newest: rel.Newest}, failed)
	}
	for j, i := range idx {
		out[i] = &undo{Rollback: rbs[j], began: began}
		fmt.Fprintf(d.Progress, "%s: rollback %s: %s\n", results[i].Workload.Ref(), rbs[j].Status, rbs[j].Message)
	}
}

// helmMaxHistory is helm's --history-max default: HELM_MAX_HISTORY, else 10, as helm reads it.
func helmMaxHistory(getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("HELM_MAX_HISTORY")); err == nil && n >= 0 {
		return n
	}
	return helmrollback.DefaultMaxHistory
}
