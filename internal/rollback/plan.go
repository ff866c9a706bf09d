package rollback

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/polymorphichelpers"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// workload names one Deployment, StatefulSet or DaemonSet; kind is canonical ("StatefulSet").
type workload struct {
	kind, namespace, name string
}

// lookup canonicalises kind; ok is false for kinds kubectl cannot roll back.
func lookup(kind, namespace, name string) (workload, bool) {
	for _, k := range []string{"Deployment", "StatefulSet", "DaemonSet"} {
		if strings.EqualFold(kind, k) {
			return workload{k, namespace, name}, true
		}
	}
	return workload{}, false
}

// String is the noun used in messages: "deployment prod/api".
func (w workload) String() string { return strings.ToLower(w.kind) + " " + w.namespace + "/" + w.name }

// ref is how kubectl spells it on the command line: "deployment/api".
func (w workload) ref() string { return strings.ToLower(w.kind) + "/" + w.name }

func (w workload) gk() schema.GroupKind { return schema.GroupKind{Group: "apps", Kind: w.kind} }

// resource is the plural the RBAC rules name.
func (w workload) resource() string { return strings.ToLower(w.kind) + "s" }

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
// second-highest revision number.
func (w workload) plan(ctx context.Context, c kubernetes.Interface) (*plan, error) {
	what := "undo " + w.String()
	var (
		p       = &plan{}
		current *corev1.PodTemplateSpec
		sts     *appsv1.StatefulSet
		err     error
	)
	switch w.kind {
	case "Deployment":
		var d *appsv1.Deployment
		d, err = c.AppsV1().Deployments(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
		if err == nil {
			p.obj, p.paused, current = d, d.Spec.Paused, &d.Spec.Template
		}
	case "StatefulSet":
		sts, err = c.AppsV1().StatefulSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
		if err == nil {
			p.obj, current = sts, &sts.Spec.Template
		}
	case "DaemonSet":
		var ds *appsv1.DaemonSet
		ds, err = c.AppsV1().DaemonSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
		if err == nil {
			p.obj, current = ds, &ds.Spec.Template
		}
	}
	if err != nil {
		return nil, kube.ExplainWrapped(err, what, "get", schema.GroupResource{Group: "apps", Resource: w.resource()})
	}

	historyResource := "controllerrevisions"
	if w.kind == "Deployment" {
		historyResource = "replicasets"
	}
	hv, err := polymorphichelpers.HistoryViewerFor(w.gk(), c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	history, err := hv.GetHistory(w.namespace, w.name)
	if err != nil {
		return nil, kube.ExplainWrapped(err, what+": read rollout history", "list", schema.GroupResource{Group: "apps", Resource: historyResource})
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

	target, err := templateOf(history[p.to])
	if err != nil {
		return nil, fmt.Errorf("%s: revision %d: %w", what, p.to, err)
	}
	p.changes = templateChanges(withoutHash(current), withoutHash(target))

	if sts != nil && holdsBrokenPods(sts) && sts.Status.UpdateRevision != "" {
		p.stuck = &stuck{sts: sts, failedHash: sts.Status.UpdateRevision}
		if p.stuck.pods, err = stuckPods(ctx, c, p.stuck); err != nil {
			return nil, kube.ExplainWrapped(err, what+": list pods", "list", corev1.Resource("pods"))
		}
	}
	return p, nil
}

// templateOf returns the pod template of one entry of kubectl's history: a ReplicaSet for a
// Deployment, or the StatefulSet/DaemonSet with that ControllerRevision applied.
func templateOf(obj runtime.Object) (*corev1.PodTemplateSpec, error) {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return &o.Spec.Template, nil
	case *appsv1.StatefulSet:
		return &o.Spec.Template, nil
	case *appsv1.DaemonSet:
		return &o.Spec.Template, nil
	}
	return nil, fmt.Errorf("unexpected history object %T", obj)
}

// withoutHash drops the pod-template-hash label, which ReplicaSets carry and Deployments do not
// (kubectl ignores it too when comparing templates).
func withoutHash(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t = t.DeepCopy()
	delete(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return t
}
