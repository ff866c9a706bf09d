package rollback

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// subject is the workload to undo, with its resolved kind.
type subject struct {
	kind workload.RolloutKind
	ref  report.Ref
}

// String is the noun used in messages: "deployment prod/api".
func (w subject) String() string {
	return strings.ToLower(w.ref.Kind) + " " + w.ref.Namespace + "/" + w.ref.Name
}

// plan is what an undo of one workload would do, read before anything is changed.
type plan struct {
	obj         runtime.Object // handed to kubectl's Rollbacker
	from, to    int64          // the failed revision and the one to roll back to
	hasPrevious bool           // false on a first deploy
	paused      bool
	changes     []report.Change
	stuck       *stuck // a controller that will not replace broken pods by itself (a StatefulSet's)
}

// plan reads the workload (a consistent read: it may have changed since the verdict) and resolves
// "the previous revision" as kubectl undo does: the second-highest revision number. (Once the
// controller has acted, the highest is the revision it rolls out, the one workload.Revisions calls
// new; before, kubectl's numbers are what undo acts on.) The revisions are the watch's
// observation when the workload is still the one the watch judged; else they are read with
// kubectl's HistoryViewer, the same code that backs `kubectl rollout history`.
func (w subject) plan(ctx context.Context, c client.Interface, obs *workload.Observation) (*plan, error) {
	what := "undo " + w.String()
	got, err := w.kind.Get(ctx, c, w.ref.Namespace, w.ref.Name)
	if err != nil {
		return nil, kube.ExplainWrapped(err, what, "get", w.kind.GroupResource())
	}
	wl, ok := got.(workload.Rollout)
	if !ok {
		return nil, fmt.Errorf("%s: %T is no rollout", what, got.Object())
	}
	p := &plan{obj: wl.Object(), paused: wl.Paused()}
	current := wl.Template()

	if from, to, previous, ok := observed(obs, wl); ok {
		p.from, p.to, p.hasPrevious = from, to, true
		p.changes = podtemplate.Diff(current, previous)
	} else {
		history, err := w.kind.KubectlHistory(c, w.ref.Namespace, w.ref.Name)
		if err != nil {
			_, hr := w.kind.History()
			return nil, kube.ExplainWrapped(err, what+": read rollout history", "list", hr)
		}
		revs := make([]int64, 0, len(history))
		for rev := range history {
			revs = append(revs, rev)
		}
		slices.Sort(revs)
		if n := len(revs); n > 0 {
			p.from = revs[n-1]
		}
		if n := len(revs); n > 1 {
			p.to, p.hasPrevious = revs[n-2], true
		}
		if !p.hasPrevious {
			return p, nil
		}
		p.changes = podtemplate.Diff(current, history[p.to])
	}

	if failed, blocked := wl.BlockedByBrokenPods(); blocked {
		p.stuck = &stuck{rollout: wl, failed: failed}
		if p.stuck.pods, err = stuckPods(ctx, c, p.stuck, obs); err != nil {
			return nil, kube.ExplainWrapped(err, what+": list pods", "list", corev1.Resource("pods"))
		}
	}
	return p, nil
}

// observed takes the revisions to go from and to, and the template to go back to, from the
// watch's observation: only when the workload is still the generation the watch judged (so its
// history can only have grown by the revision the watch saw new) and both revisions are numbered.
func observed(obs *workload.Observation, wl workload.Rollout) (from, to int64, previous *corev1.PodTemplateSpec, ok bool) {
	if obs == nil || obs.HistoryErr != nil || obs.Current == nil || obs.Previous == nil || obs.PreviousTemplate == nil {
		return 0, 0, nil, false
	}
	seen, now := obs.Workload.Meta(), wl.Meta()
	if seen.GetUID() != now.GetUID() || seen.GetGeneration() != now.GetGeneration() ||
		obs.Current.Number == 0 || obs.Previous.Number == 0 || obs.Previous.Number >= obs.Current.Number {
		return 0, 0, nil, false
	}
	return obs.Current.Number, obs.Previous.Number, obs.PreviousTemplate, true
}
