package target

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Select lists the workloads in namespace that match a label selector, of every judgeable kind
// but Jobs: finished Jobs stay in a namespace until they are deleted, so a selector would judge
// last week's failed migration again. Jobs are named with -f or --workload.
func Select(ctx context.Context, c kubernetes.Interface, namespace, selector string) ([]Workload, error) {
	opts := metav1.ListOptions{LabelSelector: selector}
	var out []Workload
	for _, k := range workload.Kinds() {
		if k.RunsToCompletion() {
			continue
		}
		ws, err := k.List(ctx, c, namespace, opts)
		if err != nil {
			gr := k.GroupResource()
			return nil, kube.Explain(err, fmt.Sprintf("list %s -n %s -l %s", gr.Resource, namespace, selector), "list", gr)
		}
		for _, w := range ws {
			out = append(out, Workload{Kind: k.Name(), Namespace: namespace, Name: w.Meta().GetName()})
		}
	}
	if len(out) == 0 {
		return nil, fault.CannotEvaluatef("no deployment, statefulset or daemonset in namespace %s matches -l %q; check the selector with `kubectl get deploy,sts,ds -n %s -l %s`", namespace, selector, namespace, selector)
	}
	return out, nil
}

// CheckExists gets every judged workload once, so that a name that does not exist, a namespace
// without access, or an unreachable cluster is said plainly before any watch starts.
func CheckExists(ctx context.Context, c kubernetes.Interface, ws []Workload) error {
	for _, w := range ws {
		if w.Skipped {
			continue
		}
		k, ok := workload.Lookup(w.Kind)
		if !ok {
			return fault.Invalidf("%s: the gate judges %s only", w.Ref(), workload.KindList())
		}
		gr := k.GroupResource()
		_, err := k.Get(ctx, c, w.Namespace, w.Name)
		if apierrors.IsNotFound(err) {
			hint := "check the name and namespace, or apply the manifest first"
			switch {
			case w.Helm != nil:
				hint = fmt.Sprintf("helm release %s revision %d renders it (%s), but it is not there: has Helm finished? (helm status %s -n %s)", w.Helm.Release, w.Helm.Revision, w.File, w.Helm.Release, w.Namespace)
			case w.File != "":
				hint = "was `kubectl apply` run on " + w.File + " in this namespace before the gate?"
			}
			return fault.CannotEvaluatef("%s not found in namespace %s; %s (kubectl get %s -n %s)", w.Ref(), w.Namespace, hint, gr.Resource, w.Namespace)
		}
		if err != nil {
			return kube.Explain(err, fmt.Sprintf("get %s -n %s", w.Ref(), w.Namespace), "get", gr)
		}
	}
	return nil
}
