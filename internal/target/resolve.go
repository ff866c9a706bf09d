package target

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube"
)

// Select lists the workloads of every judgeable kind in namespace that match a label selector.
func Select(ctx context.Context, c kubernetes.Interface, namespace, selector string) ([]Workload, error) {
	opts := metav1.ListOptions{LabelSelector: selector}
	var out []Workload
	deps, err := c.AppsV1().Deployments(namespace).List(ctx, opts)
	if err != nil {
		return nil, kube.Explain(err, fmt.Sprintf("list deployments -n %s -l %s", namespace, selector), "list", schema.GroupResource{Group: "apps", Resource: "deployments"})
	}
	for _, d := range deps.Items {
		out = append(out, Workload{Kind: Deployment, Namespace: namespace, Name: d.Name})
	}
	stss, err := c.AppsV1().StatefulSets(namespace).List(ctx, opts)
	if err != nil {
		return nil, kube.Explain(err, fmt.Sprintf("list statefulsets -n %s -l %s", namespace, selector), "list", schema.GroupResource{Group: "apps", Resource: "statefulsets"})
	}
	for _, s := range stss.Items {
		out = append(out, Workload{Kind: StatefulSet, Namespace: namespace, Name: s.Name})
	}
	dss, err := c.AppsV1().DaemonSets(namespace).List(ctx, opts)
	if err != nil {
		return nil, kube.Explain(err, fmt.Sprintf("list daemonsets -n %s -l %s", namespace, selector), "list", schema.GroupResource{Group: "apps", Resource: "daemonsets"})
	}
	for _, d := range dss.Items {
		out = append(out, Workload{Kind: DaemonSet, Namespace: namespace, Name: d.Name})
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
		var err error
		resource := ""
		switch w.Kind {
		case Deployment:
			resource = "deployments"
			_, err = c.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		case StatefulSet:
			resource = "statefulsets"
			_, err = c.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		case DaemonSet:
			resource = "daemonsets"
			_, err = c.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		}
		if apierrors.IsNotFound(err) {
			hint := "check the name and namespace, or apply the manifest first"
			if w.File != "" {
				hint = "was `kubectl apply` run on " + w.File + " in this namespace before the gate?"
			}
			return fault.CannotEvaluatef("%s not found in namespace %s; %s (kubectl get %s -n %s)", w.Ref(), w.Namespace, hint, resource, w.Namespace)
		}
		if err != nil {
			return kube.Explain(err, fmt.Sprintf("get %s -n %s", w.Ref(), w.Namespace), "get", schema.GroupResource{Group: "apps", Resource: resource})
		}
	}
	return nil
}
