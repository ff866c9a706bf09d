package app

import (
	"context"
	"fmt"

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
func helmTargets(ctx context.Context, c client.Interface, name, ns string, d Deps) ([]target.Workload, error) {
	drivers, err := helmrelease.Drivers(d.Getenv("HELM_DRIVER"))
	if err != nil {
		return nil, err
	}
	rel, err := helmrelease.Current(ctx, c, ns, name, drivers)
	if err != nil {
		return nil, err
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
