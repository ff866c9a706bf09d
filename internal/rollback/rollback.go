// Package rollback rolls a failed workload back to its previous revision with kubectl's own
// `rollout undo` code (k8s.io/kubectl's polymorphichelpers, carried in internal/kubectlcopy), then
// waits for it to be healthy again.
// kubectl's undo does not wait, and a StatefulSet stuck on a broken pod under OrderedReady never
// recovers by itself (kubernetes#67250); this package does both.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kubectlcopy"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// DefaultTimeout bounds the wait for a rolled-back workload to become healthy (--rollback-timeout).
const DefaultTimeout = 5 * time.Minute

// Verifier waits for a workload, of the resolved kind k, to become healthy again after the undo
// and returns its verdict (report.VerdictHealthy / VerdictFailed / VerdictTimeout) with a
// message. The watch package provides it.
type Verifier func(ctx context.Context, k workload.Kind, ref report.Ref) (report.Verdict, string, error)

// Rollbacker undoes failed rollouts. Its fields are the seams: tests pass a fake clientset, a
// Verifier stub and a fixed clock.
type Rollbacker struct {
	Client  client.Interface
	DryRun  bool
	Verify  Verifier      // nil = do not verify
	Timeout time.Duration // --rollback-timeout, bounds the wait after the undo (default 5m)
	Now     func() time.Time
	// Helm runs Helm's own rollback of a --helm-release (HelmRollback); nil when the binary was
	// built without Helm's library, and then a release is refused with the helm command.
	Helm helmrollback.Runner
	// HelmMaxHistory is helm's --history-max for that rollback (0 keeps every revision).
	HelmMaxHistory int
}

// Undo rolls one failed workload, ref of the resolved kind k, back to its previous revision with
// kubectl rollout undo semantics, then verifies it. It never returns an error for expected
// refusals: they are reported in the result. k is a workload.RolloutKind (Deployment,
// StatefulSet, DaemonSet); a Job is reported as not rollbackable. obs, when set, is what the
// watch saw of the failed rollout: the revisions to go from and to and what changes between them
// are taken from it rather than read again, as long as the workload has not changed since.
func (r *Rollbacker) Undo(ctx context.Context, k workload.Kind, ref report.Ref, obs *workload.Observation) report.Rollback {
	start := r.now()
	res := r.undo(ctx, k, ref, obs)
	res.Duration = report.Seconds(r.now().Sub(start))
	return res
}

// Applies says whether undoing a workload of the kind can change anything: only for a kind
// `kubectl rollout` knows. Undo reports any other (a Job, which runs to completion) as not
// rollbackable and leaves it alone.
func Applies(k workload.Kind) bool {
	_, ok := k.(workload.RolloutKind)
	return ok
}

func (r *Rollbacker) undo(ctx context.Context, k workload.Kind, ref report.Ref, obs *workload.Observation) report.Rollback {
	rk, ok := k.(workload.RolloutKind)
	manual, byHand := k.(workload.ManualRollbackKind)
	switch _, pods := k.(workload.PodKind); {
	case byHand:
		// An Argo Rollout: its controller owns the rollback. kubectl's undo does not know it, and
		// writing a template back behind the controller's abort would be half a rollback.
		res := report.Rollback{Status: report.RollbackRefused, Message: fmt.Sprintf(
			"the gate does not roll back a %s itself: its controller owns the rollback (abort, then undo through the %s's own spec); nothing was changed. Run: %s",
			k.Name(), k.Name(), strings.Join(manual.UndoCommands(ref.Namespace, ref.Name), ", then "))}
		if obs != nil && obs.Current != nil {
			res.FromRevision = obs.Current.NumberString()
			if obs.Previous != nil {
				res.ToRevision = obs.Previous.NumberString()
			}
		}
		return res
	case !ok && pods:
		// A Job keeps no earlier revision and its pod template cannot change: there is nothing to
		// go back to, and undoing it would mean deleting it, which is not the gate's to decide.
		return report.Rollback{Status: report.RollbackSkipped, Message: fmt.Sprintf(
			"rollback does not apply to a %s: %s runs to completion and keeps no previous revision to go back to; it was not touched. "+
				"Fix it and re-create it (kubectl delete %s -n %s, then apply it again)",
			k.Name(), subject{ref: ref}, ref, ref.Namespace)}
	case !ok:
		return report.Rollback{Status: report.RollbackSkipped, Message: fmt.Sprintf(
			"%s %s/%s: kubectl rollout undo supports only Deployments, StatefulSets and DaemonSets; nothing was changed",
			ref.Kind, ref.Namespace, ref.Name)}
	}
	w := subject{kind: rk, ref: ref}
	p, err := w.plan(ctx, r.Client, obs)
	if err != nil {
		return report.Rollback{Status: report.RollbackFailed, Message: err.Error()}
	}
	res := report.Rollback{FromRevision: revision(p.from), Changes: p.changes}
	if p.hasPrevious {
		res.ToRevision = revision(p.to)
	}
	switch {
	case p.paused:
		res.Status, res.Message = report.RollbackRefused, pausedMessage(w)
		return res
	case !p.hasPrevious:
		res.Status = report.RollbackSkipped
		res.Message = fmt.Sprintf("first deploy: %s has no previous revision to roll back to "+
			"(revision %d is its only one); nothing was changed", w, p.from)
		if p.from == 0 {
			res.FromRevision = ""
			res.Message = fmt.Sprintf("first deploy: %s has no rollout history yet, so there is nothing to roll back to; nothing was changed", w)
		}
		return res
	case r.DryRun:
		return r.describe(w, p, res)
	}

	if err := ctx.Err(); err != nil {
		res.Status, res.Message = report.RollbackFailed, fmt.Sprintf("undo %s: %v", w, err)
		return res
	}
	// kubectl's rollbacker reads only the name and namespace of the object and fetches the rest
	// itself. It is given the revision resolved above rather than 0 ("the previous one"), so that
	// the report and the undo agree even if the history changed in between.
	rb, err := w.kind.Rollbacker(r.Client)
	if err != nil {
		res.Status, res.Message = report.RollbackFailed, fmt.Sprintf("undo %s: %v", w, err)
		return res
	}
	msg, err := rb.Rollback(p.obj, nil, p.to, kubectlcopy.DryRunNone)
	switch {
	case err != nil && strings.Contains(err.Error(), "paused deployment"):
		res.Status, res.Message = report.RollbackRefused, pausedMessage(w)
		return res
	case err != nil:
		res.Status = report.RollbackFailed
		res.Message = kube.ExplainWrapped(err, "undo "+w.String(), "patch", w.kind.GroupResource()).Error()
		return res
	case strings.HasPrefix(msg, "skipped rollback"):
		// kubectl's own words: "skipped rollback (current template already matches revision N)".
		res.Status, res.Changes = report.RollbackSkipped, nil
		res.Message = fmt.Sprintf("%s: %s; rolling back would change nothing, so nothing was changed", w, msg)
		return res
	}

	res.Undone = true
	done := fmt.Sprintf("rolled back %s from revision %d to revision %d", w, p.from, p.to)
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	if p.stuck != nil {
		deleted, err := r.releaseStuckPods(ctx, w, p.stuck)
		res.DeletedPods = deleted
		if err != nil {
			res.Status = report.RollbackFailed
			if errors.Is(err, context.DeadlineExceeded) {
				res.Status = report.RollbackTimeout
			}
			res.Message = fmt.Sprintf("%s, but %v", done, err)
			return res
		}
		if len(deleted) > 0 {
			done += fmt.Sprintf(" and deleted the not-ready pod(s) %s of revision %d that held it up (kubernetes#67250)",
				strings.Join(deleted, ", "), p.from)
		}
	}
	res.Status, res.Message = r.verify(ctx, w, done)
	return res
}

// verify runs the Verifier under the rollback timeout and maps its verdict to a status.
func (r *Rollbacker) verify(ctx context.Context, w subject, done string) (status, message string) {
	if r.Verify == nil {
		return report.RollbackRolledBack, done + " (not verified: verification is off)"
	}
	verdict, msg, err := r.Verify(ctx, w.kind, w.ref)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return report.RollbackTimeout, fmt.Sprintf("%s, but it did not become healthy within %s", done, r.timeout())
	case err != nil:
		return report.RollbackFailed, fmt.Sprintf("%s, but could not verify it: %v", done, err)
	}
	if msg != "" {
		msg = ": " + msg
	}
	switch verdict {
	case report.VerdictHealthy:
		return report.RollbackRolledBack, done + " and it is healthy again" + msg
	case report.VerdictTimeout:
		return report.RollbackTimeout, fmt.Sprintf("%s, but it did not become healthy within %s%s", done, r.timeout(), msg)
	default:
		return report.RollbackFailed, done + ", but it is still failing" + msg
	}
}

// describe is the dry run: it says what the undo would do and changes nothing.
func (r *Rollbacker) describe(w subject, p *plan, res report.Rollback) report.Rollback {
	if len(p.changes) == 0 {
		res.Status = report.RollbackSkipped
		res.Message = fmt.Sprintf("dry run: %s: would skip the rollback (current template already matches revision %d); "+
			"nothing was changed", w, p.to)
		return res
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dry run: would roll back %s from revision %d to revision %d (kubectl rollout undo %s --to-revision=%d -n %s); changes: ",
		w, p.from, p.to, w.ref, p.to, w.ref.Namespace)
	for i, c := range p.changes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s -> %s", c.Path, orNone(c.Before), orNone(c.After))
	}
	if p.stuck != nil && len(p.stuck.pods) > 0 {
		fmt.Fprintf(&b, "; then would delete the not-ready pod(s) %s of revision %d so the StatefulSet controller can proceed (kubernetes#67250)",
			strings.Join(p.stuck.pods, ", "), p.from)
	}
	b.WriteString("; nothing was changed")
	res.Status, res.Message = report.RollbackDryRun, b.String()
	return res
}

func pausedMessage(w subject) string {
	return fmt.Sprintf("%s is paused, and kubectl refuses to roll back a paused deployment; "+
		"resume it first with `kubectl rollout resume %s -n %s`, then roll back with `kubectl rollout undo %s -n %s`",
		w, w.ref, w.ref.Namespace, w.ref, w.ref.Namespace)
}

func (r *Rollbacker) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Rollbacker) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func revision(n int64) string { return strconv.FormatInt(n, 10) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
