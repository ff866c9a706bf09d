package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/rollout-gate/rollout-gate/internal/helmrelease"
	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// HelmRelease is the release a run gated with --helm-release, as the gate read it.
type HelmRelease struct {
	Name, Namespace string
	// Driver is where it is stored: "secrets" or "configmaps".
	Driver string
	// Judged is the revision the gate judged; Newest the highest stored when it was read.
	Judged, Newest int
}

// HelmWorkload is one of the release's workloads that failed, of its resolved kind.
type HelmWorkload struct {
	Kind workload.Kind
	Ref  report.Ref
}

// HelmRollback rolls a release back as `helm rollback` does, once for the whole release, then
// verifies each of its failed workloads as Undo verifies one: it returns one rollback per entry
// of failed. The decision is taken before anything changes (helmrelease.PlanRollback) and is the
// same for every workload: Helm's rollback is the whole release or nothing, so a refusal leaves
// every resource as it is. Without Helm's library (r.Helm nil) it refuses with the exact helm
// command rather than undo the resources behind Helm's back.
func (r *Rollbacker) HelmRollback(ctx context.Context, rel HelmRelease, failed []HelmWorkload) []report.Rollback {
	start := r.now()
	all := func(rb report.Rollback) []report.Rollback {
		rb.Duration = report.Seconds(r.now().Sub(start))
		out := make([]report.Rollback, len(failed))
		for i := range out {
			out[i] = rb
		}
		return out
	}
	revs, err := helmrelease.Revisions(ctx, r.Client, rel.Namespace, rel.Name, rel.Driver)
	if err != nil {
		return all(report.Rollback{Status: report.RollbackFailed, Message: fmt.Sprintf("roll back helm release %s -n %s: %v; nothing was rolled back", rel.Name, rel.Namespace, err)})
	}
	p, err := helmrelease.PlanRollback(rel.Name, rel.Namespace, rel.Judged, rel.Newest, revs)
	var refusal *helmrelease.Refusal
	from := ""
	if p.From > 0 {
		from = revision(int64(p.From))
	}
	switch {
	case errors.As(err, &refusal) && refusal.FirstInstall:
		return all(report.Rollback{Status: report.RollbackSkipped, FromRevision: from, Message: refusal.Message})
	case err != nil:
		return all(report.Rollback{Status: report.RollbackRefused, FromRevision: from, Message: err.Error()})
	}
	res := report.Rollback{FromRevision: revision(int64(p.From)), ToRevision: revision(int64(p.To))}
	what := fmt.Sprintf("helm release %s -n %s from revision %d to revision %d", p.Release, p.Namespace, p.From, p.To)
	skips := ""
	if len(p.SkipsFailed) > 0 {
		skips = fmt.Sprintf(" (past the failed revision(s) %v, where `helm rollback %s` without a revision would go)", p.SkipsFailed, p.Release)
	}
	switch {
	case r.DryRun:
		res.Status = report.RollbackDryRun
		res.Message = fmt.Sprintf("dry run: would roll back %s%s with Helm's rollback (`%s`), which stores revision %d \"Rollback to %d\"; nothing was changed",
			what, skips, p.Command(), p.Next, p.To)
		return all(res)
	case r.Helm == nil:
		res.Status = report.RollbackRefused
		res.Message = fmt.Sprintf("not rolled back: this gate was built without Helm's library (go build -tags helmsdk), and undoing the release's resources "+
			"behind Helm's back would leave `helm history` naming revision %d (%s) as what is in the cluster. Roll it back with Helm: `%s`%s, which stores revision %d \"Rollback to %d\"",
			p.From, p.FromStatus, p.Command(), skips, p.Next, p.To)
		return all(res)
	}
	if err := ctx.Err(); err != nil {
		res.Status, res.Message = report.RollbackFailed, fmt.Sprintf("roll back %s: %v; nothing was rolled back", what, err)
		return all(res)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	err = r.Helm(ctx, helmrollback.Request{Release: p.Release, Namespace: p.Namespace, To: p.To, Driver: rel.Driver, Timeout: r.timeout(), MaxHistory: r.HelmMaxHistory})
	if err != nil {
		res.Status = report.RollbackFailed
		// Helm stores the rollback's revision before it applies it and marks it failed when the
		// apply fails: a stored revision Next means the cluster may have been changed.
		after, rerr := helmrelease.Revisions(context.WithoutCancel(ctx), r.Client, rel.Namespace, rel.Name, rel.Driver)
		res.Undone = rerr == nil && slices.ContainsFunc(after, func(v helmrelease.Revision) bool { return v.Version == p.Next })
		state := "nothing was rolled back"
		if res.Undone {
			state = fmt.Sprintf("Helm stored revision %d and may have applied part of it", p.Next)
		}
		res.Message = fmt.Sprintf("Helm's rollback of %s failed: %v; %s. Check `helm history %s -n %s`, then run `%s` again",
			what, err, state, p.Release, p.Namespace, p.Command())
		return all(res)
	}
	res.Undone = true
	done := fmt.Sprintf("rolled back %s%s with Helm's rollback (revision %d, \"Rollback to %d\")", what, skips, p.Next, p.To)
	out := make([]report.Rollback, len(failed))
	var wg sync.WaitGroup
	for i, f := range failed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rb := res
			rk, ok := f.Kind.(workload.RolloutKind)
			if !ok {
				rb.Status = report.RollbackRolledBack
				rb.Message = fmt.Sprintf("%s; %s is as revision %d renders it (Helm re-applies the whole release) and is not verified: it has no rollout to watch", done, f.Ref, p.To)
			} else {
				rb.Status, rb.Message = r.verify(ctx, subject{kind: rk, ref: f.Ref}, done)
			}
			rb.Duration = report.Seconds(r.now().Sub(start))
			out[i] = rb
		}()
	}
	wg.Wait()
	return out
}
