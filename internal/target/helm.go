package target

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/rollout-gate/rollout-gate/internal/helmrelease"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// HelmSource says which Helm release (and revision) rendered a resource, and for a hook, the
// events it runs on.
type HelmSource struct {
	Release  string
	Revision int
	Hook     string // "pre-upgrade", "pre-install,pre-upgrade", ...; empty for the manifest
	// Namespace, Driver and Newest are the release's namespace, its storage ("secrets" or
	// "configmaps") and its highest stored version when it was read: what --rollback needs to
	// roll the release back with Helm, and to see that no other helm ran since.
	Namespace, Driver string
	Newest            int
}

// maxTemplatePath bounds the "# Source:" path the report shows (it is the chart's text).
const maxTemplatePath = 256

// FromHelmRelease reads the resources of a release's revision: every document of its manifest,
// resolved as -f manifests are (so the same kinds are judged or skipped), with the chart template
// of its "# Source:" line as its source; and the hooks that are Jobs and ran in this revision
// (a pre-upgrade migration is the first thing an upgrade breaks). Other hooks, and hooks Helm did
// not run in this revision (the test hooks, the install hooks of an upgrade), are left out: they
// are not part of what this revision rolled out.
func FromHelmRelease(r *helmrelease.Release) ([]Target, error) {
	src := &HelmSource{Release: r.Name, Revision: r.Version, Namespace: r.Namespace, Driver: r.Driver, Newest: r.Newest}
	var out []Target
	docs, err := splitDocuments("helm release "+r.Name, []byte(r.Manifest))
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		ws, err := parseRendered(r, templatePath(d.text, ""), d.text, src)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	for _, h := range r.Hooks {
		if h.Kind != Job || !h.Ran() {
			continue
		}
		ws, err := parseRendered(r, templatePath([]byte(h.Manifest), h.Path), []byte(h.Manifest),
			&HelmSource{Release: r.Name, Revision: r.Version, Hook: strings.Join(h.Events, ","), Namespace: r.Namespace, Driver: r.Driver, Newest: r.Newest})
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

// parseRendered resolves one rendered document; errors name the release and the template.
func parseRendered(r *helmrelease.Release, path string, text []byte, src *HelmSource) ([]Target, error) {
	ws, err := Parse(path, text, r.Namespace)
	if err != nil {
		return nil, fmt.Errorf("helm release %s -n %s revision %d: %w", r.Name, r.Namespace, r.Version, err)
	}
	for i := range ws {
		ws[i].Line, ws[i].Helm = 0, src
	}
	return ws, nil
}

// templatePath is the chart template a rendered document came from, from Helm's "# Source:"
// comment (or the hook's recorded path), cut to one short line: it is the chart author's text.
func templatePath(doc []byte, fallback string) string {
	p, _ := sourceComment(doc)
	if p == "" {
		p = cleanTemplatePath(fallback)
	}
	if p == "" {
		p = "(no # Source: line)"
	}
	return p
}

// DropDeletedHooks leaves out the hook Jobs that no longer exist: Helm deletes a hook once it ran
// when its helm.sh/hook-delete-policy says so (hook-succeeded, hook-failed), and a deleted hook has
// nothing left to judge. It returns the hooks it left out, for the progress log.
func DropDeletedHooks(ctx context.Context, c client.Interface, ws []Target) (kept, gone []Target, err error) {
	for _, w := range ws {
		if w.Helm == nil || w.Helm.Hook == "" || w.Skipped {
			kept = append(kept, w)
			continue
		}
		k, _ := workload.Lookup(w.Kind)
		_, err := k.Get(ctx, c, w.Namespace, w.Name)
		switch {
		case apierrors.IsNotFound(err):
			gone = append(gone, w)
		case err != nil:
			return nil, nil, kube.Explain(err, fmt.Sprintf("get the Helm hook %s -n %s", w.Ref(), w.Namespace), "get", k.GroupResource())
		default:
			kept = append(kept, w)
		}
	}
	return slices.Clip(kept), gone, nil
}
