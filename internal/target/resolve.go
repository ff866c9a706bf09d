package target

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Select lists the workloads in namespace that match a label selector, of every judgeable kind
// but Jobs: finished Jobs stay in a namespace until they are deleted, so a selector would judge
// last week's failed migration again. Jobs are named with -f or --workload.
func Select(ctx context.Context, c client.Interface, namespace, selector string) ([]Target, error) {
	opts := metav1.ListOptions{LabelSelector: selector}
	var out []Target
	for _, k := range workload.RolloutKinds() {
		ws, err := k.List(ctx, c, namespace, opts)
		if err != nil {
			gr := k.GroupResource()
			return nil, kube.Explain(err, fmt.Sprintf("list %s -n %s -l %s", gr.Resource, namespace, selector), "list", gr)
		}
		for _, w := range ws {
			out = append(out, Target{Kind: k.Name(), Namespace: namespace, Name: w.Meta().GetName(), Resolved: k})
		}
	}
	if len(out) == 0 {
		return nil, fault.CannotEvaluatef("no deployment, statefulset or daemonset in namespace %s matches -l %q; check the selector with `kubectl get deploy,sts,ds -n %s -l %s`", namespace, selector, namespace, selector)
	}
	return out, nil
}

// CheckExists gets every judged workload once, so that a name that does not exist, a namespace
// without access, or an unreachable cluster is said plainly before any watch starts.
func CheckExists(ctx context.Context, c client.Interface, ws []Target) error {
	for _, w := range ws {
		if w.Skipped {
			continue
		}
		k, ok := w.KindOf()
		if !ok {
			return fault.Invalidf("%s: the gate judges %s only", w.Ref(), workload.KindList())
		}
		gr := k.GroupResource()
		_, err := k.Get(ctx, c, w.Namespace, w.Name)
		where, nsFlag := "in namespace "+w.Namespace, " -n "+w.Namespace
		if w.Namespace == "" {
			where, nsFlag = "(cluster-scoped)", ""
		}
		if apierrors.IsNotFound(err) {
			hint := "check the name and namespace, or apply the manifest first"
			switch {
			case w.Helm != nil:
				hint = fmt.Sprintf("helm release %s revision %d renders it (%s), but it is not there: has Helm finished? (helm status %s -n %s)", w.Helm.Release, w.Helm.Revision, w.File, w.Helm.Release, w.Namespace)
			case w.File != "":
				hint = "was `kubectl apply` run on " + w.File + " in this namespace before the gate?"
			}
			return fault.CannotEvaluatef("%s not found %s; %s (kubectl get %s%s)", w.Ref(), where, hint, gr.String(), nsFlag)
		}
		if err != nil {
			return kube.Explain(err, fmt.Sprintf("get %s%s", w.Ref(), nsFlag), "get", gr)
		}
	}
	return nil
}

// Resolver finds the Kind of a type outside the switch (workload.Resolver, over the API server's
// discovery).
type Resolver interface {
	ForObject(ctx context.Context, apiVersion, kind string) (workload.Resolution, error)
	ForResource(ctx context.Context, arg string) (workload.Resolution, error)
}

// Resolve finds the kind of every workload the switch does not know, through r: judged by its
// status (through kstatus), skipped with the reason (a ConfigMap has no status to judge), or an
// invalid-input error for a type the API server does not serve (a CRD not installed, a typo).
// Without a resolver such workloads stay skipped (manifests) or are an error (--workload).
func Resolve(ctx context.Context, r Resolver, ws []Target) ([]Target, error) {
	out := make([]Target, 0, len(ws))
	for _, w := range ws {
		if k, ok := workload.Lookup(w.Kind); ok && !w.Skipped {
			w.Resolved = k
			out = append(out, w)
			continue
		}
		if r == nil {
			if w.APIVersion == "" {
				return nil, fault.Invalidf("--workload %s: unknown kind %q; use deployment (deploy), statefulset (sts), daemonset (ds) or job", w.Ref(), w.Kind)
			}
			w.Why = "the gate judges " + workload.KindList() + " only"
			out = append(out, w)
			continue
		}
		var res workload.Resolution
		var err error
		if w.APIVersion != "" {
			res, err = r.ForObject(ctx, w.APIVersion, w.Kind)
		} else {
			res, err = r.ForResource(ctx, w.Kind)
		}
		if meta.IsNoMatchError(err) {
			return nil, unknownType(w)
		}
		if err != nil {
			return nil, kube.Classify(fmt.Errorf("find the kind of %s through the API server's discovery: %w", w, err))
		}
		w.Kind, w.APIVersion = res.Kind.Name(), res.APIVersion
		w.Resolved = res.Kind
		if !res.Kind.Namespaced() {
			w.Namespace = ""
		}
		w.Skipped, w.Why = res.Skip != "", res.Skip
		out = append(out, w)
	}
	return out, nil
}

// unknownType says that the API server serves no such type, and how to fix it.
func unknownType(w Target) error {
	if w.APIVersion == "" {
		return fault.Invalidf("--workload %s: the API server serves no type %q; check the spelling with `kubectl api-resources`, "+
			"or install the CustomResourceDefinition that defines it before the gate runs", w.Ref(), w.Kind)
	}
	group, _, found := strings.Cut(w.APIVersion, "/")
	hint := "kubectl api-resources"
	if found {
		hint += " --api-group=" + group
	}
	return fault.Invalidf("%s: the API server does not serve kind %s in apiVersion %s; is its CustomResourceDefinition installed "+
		"(and at that version)? Apply the CRD before the resources that use it, then run the gate again; `%s` lists what the server serves",
		w, w.Kind, w.APIVersion, hint)
}
