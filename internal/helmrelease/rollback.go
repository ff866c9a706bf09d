package helmrelease

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// Revision is one stored revision as its object's name and labels say. The record itself is not
// decoded: what a rollback plan needs is the version and the status, and the record holds the
// chart's values (secrets, often), which the gate has no reason to read.
type Revision struct {
	Version int
	Status  string
}

// Revisions lists the stored revisions of release name in namespace from one driver ("secrets"
// or "configmaps"), lowest version first. Objects that do not follow Helm's storage conventions
// are left out, as Current leaves them out.
func Revisions(ctx context.Context, c client.Interface, namespace, name, driver string) ([]Revision, error) {
	sel := labels.Set{"owner": "helm", "name": name}.AsSelector().String()
	revs, _, err := list(ctx, c, driver, namespace, sel)
	if err != nil {
		return nil, err
	}
	out := make([]Revision, 0, len(revs))
	for _, r := range revs {
		out = append(out, Revision{Version: r.version, Status: r.status})
	}
	slices.SortFunc(out, func(a, b Revision) int { return a.Version - b.Version })
	return out, nil
}

// newest is the highest version among revs, 0 for none.
func newest(revs []stored) int {
	n := 0
	for _, r := range revs {
		n = max(n, r.version)
	}
	return n
}

// RollbackPlan is Helm's rollback of a release, decided before anything is changed.
type RollbackPlan struct {
	Release, Namespace string
	// From is the newest revision, the one Helm's rollback replaces (storage.Last); To the
	// revision it goes back to; Next the revision the rollback writes ("Rollback to To").
	From, To, Next int
	// FromStatus is From's status (deployed, or failed when Helm's own wait gave up).
	FromStatus string
	// SkipsFailed names the failed revisions between To and From that `helm rollback RELEASE`
	// with no revision would have gone back to (it takes From-1); empty when To is From-1.
	SkipsFailed []int
}

// Command is the helm command that does this rollback by hand, the revision named so that it
// goes where the plan goes.
func (p RollbackPlan) Command() string {
	return Command(p.Release, p.To, p.Namespace)
}

// Command is `helm rollback RELEASE REVISION -n NAMESPACE`, or without the revision when it is
// not known (0).
func Command(release string, to int, namespace string) string {
	if to <= 0 {
		return fmt.Sprintf("helm rollback %s -n %s", release, namespace)
	}
	return fmt.Sprintf("helm rollback %s %d -n %s", release, to, namespace)
}

// Refusal is why a release is not rolled back. FirstInstall sets a release that has nothing to
// go back to (reported skipped: nothing is wrong with it); any other refusal needs a person.
type Refusal struct {
	FirstInstall bool
	Message      string
}

func (r *Refusal) Error() string { return r.Message }

// PlanRollback decides Helm's rollback of release name in namespace from its stored revisions,
// the way `helm rollback RELEASE` would run it, or refuses with what to do. judged is the
// revision the gate judged failing, seenNewest the newest revision when the gate read the release
// (Release.Newest). All of it is decided here, before anything changes: a refusal changes nothing.
//
// Helm's rollback goes from the newest revision (storage.Last) to the revision given, or without
// one to the newest minus one (action.Rollback.prepareRollback), whatever its status. The gate
// names the revision instead, by the rule of Helm's own --rollback-on-failure (action.Upgrade's
// failRelease): the newest earlier revision that Helm deployed (status deployed or superseded). It
// is the newest minus one unless revisions in between failed, and the gate does not roll a broken
// release back onto another broken one. It refuses:
//   - when the newest revision is not seenNewest: another helm ran since the gate read the release,
//     and what the gate judged is no longer what a rollback would replace;
//   - when the newest revision is pending-install, -upgrade or -rollback: another helm is at work
//     (or was killed half-way, which a person should look at before anything rolls it back);
//   - when it is neither deployed nor failed (superseded, uninstalling, uninstalled, unknown);
//   - when there is no earlier revision (a first install: FirstInstall), or none that Helm ever
//     deployed, or when the one to go back to is the revision the gate judged failing.
func PlanRollback(name, namespace string, judged, seenNewest int, revs []Revision) (RollbackPlan, error) {
	p := RollbackPlan{Release: name, Namespace: namespace}
	refuse := func(format string, args ...any) (RollbackPlan, error) {
		return p, &Refusal{Message: fmt.Sprintf(format, args...) + "; nothing was rolled back"}
	}
	history := fmt.Sprintf("`helm history %s -n %s`", name, namespace)
	if len(revs) == 0 {
		return refuse("helm release %s -n %s has no stored revision any more (uninstalled since the gate read it?); check %s", name, namespace, history)
	}
	top := slices.MaxFunc(revs, func(a, b Revision) int { return a.Version - b.Version })
	p.From, p.FromStatus, p.Next = top.Version, top.Status, top.Version+1
	var target *Revision
	var failed []int
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		if r.Version >= top.Version {
			continue
		}
		if r.Status == StatusDeployed || r.Status == StatusSuperseded {
			if target == nil || r.Version > target.Version {
				target = &revs[i]
			}
		}
	}
	if target != nil {
		p.To = target.Version
		for _, r := range revs {
			if r.Version > p.To && r.Version < p.From && r.Status == StatusFailed {
				failed = append(failed, r.Version)
			}
		}
		slices.Sort(failed)
		p.SkipsFailed = failed
	}
	switch {
	case seenNewest > 0 && top.Version != seenNewest:
		return refuse("helm release %s -n %s changed while the gate watched it: its newest revision is now %d (%s), not %d; another helm ran, and a rollback now would undo what it did, not what the gate judged. Check %s",
			name, namespace, top.Version, top.Status, seenNewest, history)
	case strings.HasPrefix(top.Status, "pending-"):
		return refuse("helm release %s -n %s: revision %d is %s, so another helm operation is running (or was killed half-way); the gate does not roll back under it. Wait for it to finish and check %s; if no helm is running, roll back with `%s`",
			name, namespace, top.Version, top.Status, history, Command(name, p.To, namespace))
	case top.Status != StatusDeployed && top.Status != StatusFailed:
		return refuse("helm release %s -n %s: its newest revision %d is %s, not deployed or failed, so there is no rollout of it to roll back; check %s",
			name, namespace, top.Version, top.Status, history)
	case target == nil && len(revs) == 1:
		return p, &Refusal{FirstInstall: true, Message: fmt.Sprintf("first install: helm release %s -n %s has only revision %d, so there is nothing to roll back to; nothing was changed. Fix the chart and upgrade again, or remove it with `helm uninstall %s -n %s`",
			name, namespace, top.Version, name, namespace)}
	case target == nil:
		return refuse("helm release %s -n %s: no revision before %d was ever deployed (%s), so there is nothing healthy to roll back to; check %s",
			name, namespace, top.Version, statuses(revs, top.Version), history)
	case p.To == judged && judged != top.Version:
		return refuse("helm release %s -n %s: the revision to roll back to, %d, is the one the gate judged failing (revision %d is newer and %s); check %s and roll back to an earlier revision by hand with `helm rollback %s REVISION -n %s`",
			name, namespace, p.To, top.Version, top.Status, history, name, namespace)
	}
	return p, nil
}

// statuses lists the revisions below top as "1 failed, 2 pending-install".
func statuses(revs []Revision, top int) string {
	var parts []string
	for _, r := range revs {
		if r.Version < top {
			parts = append(parts, strconv.Itoa(r.Version)+" "+r.Status)
		}
	}
	return strings.Join(parts, ", ")
}
