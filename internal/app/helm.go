package app

import (
	"context"
	"fmt"
	"io"

	"github.com/rollout-gate/rollout-gate/internal/helmrelease"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/target"
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
