package rollback

import (
	"context"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// subject names the workload to undo.
type subject struct {
	kind            workload.Kind
	namespace, name string
}

// lookup finds the kind; ok is false for kinds kubectl cannot roll back.
func lookup(kind, namespace, name string) (subject, bool) {
	k, ok := workload.Lookup(kind)
	return subject{k, namespace, name}, ok
}

// String is the noun used in messages: "deployment prod/api".
func (w subject) String() string {
	return strings.ToLower(w.kind.Name()) + " " + w.namespace + "/" + w.name
}

// ref is how kubectl spells it on the command line: "deployment/api".
func (w subject) ref() string { return strings.ToLower(w.kind.Name()) + "/" + w.name }

// plan is what an undo of one workload would do, read before anything is changed.
type plan struct {
	obj         runtime.Object // handed to kubectl's Rollbacker
	from, to    int64          // the failed revision and the one to roll back to
	hasPrevious bool           // false on a first deploy
	paused      bool
	changes     []report.Change
	stuck       *stuck // StatefulSets whose controller will not replace broken pods by itself
}

// plan reads the workload and its history with kubectl's HistoryViewer, the same code that backs
// `kubectl rollout history`, and resolves "the previous revision" as kubectl undo does: the
// second-highest revision number. (Once the controller has acted, the highest is the revision it
// rolls out, the one workload.Revisions calls new; before, kubectl's numbers are what undo acts on.)
func (w subject) plan(ctx context.Context, c client.Interface) (*plan, error) {
	what := "undo " + w.String()
	wl, err := w.kind.Get(ctx, c, w.namespace, w.name)
	if err != nil {
		return nil, kube.ExplainWrapped(err, what, "get", w.kind.GroupResource())
	}
	p := &plan{obj: wl.Object(), paused: wl.Paused()}
	current := wl.Template()

	history, err := workload.KubectlHistory(c, w.kind, w.namespace, w.name)
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

	if sts, ok := wl.Object().(*appsv1.StatefulSet); ok && holdsBrokenPods(sts) && sts.Status.UpdateRevision != "" {
		p.stuck = &stuck{sts: sts, failedHash: sts.Status.UpdateRevision}
		if p.stuck.pods, err = stuckPods(ctx, c, p.stuck); err != nil {
			return nil, kube.ExplainWrapped(err, what+": list pods", "list", corev1.Resource("pods"))
		}
	}
	return p, nil
}
