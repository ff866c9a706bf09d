// Package podtemplate compares and renders pod templates: the one diff behind both "what this
// rollout changed" (diagnose) and "what the rollback changes" (rollback), with the report's one
// rule for credential-named env literals, so the two sections of a report never disagree.
package podtemplate

import (
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Diff lists what differs from before to after, sorted by path. Paths key lists of named items by
// name: containers[api].image, containers[api].env[DB_PORT], volumes[tls], metadata.labels[tier].
// The fields the diagnosis reasons about are one row each, in kubectl describe's words: a whole
// container added or removed ("image api:v2" against unset), an env var (a quoted literal or the
// reference it reads, never a Secret's value), a probe, envFrom, a volume's source, nodeSelector,
// tolerations and imagePullSecrets. Every other field is compared generically over the JSON, so
// none is forgotten. A literal whose variable is named like a credential is report.MaskedValue on
// both sides, even when it changed. The labels that only name a revision (pod-template-hash,
// controller-revision-hash) are not changes. A nil template (a first deploy) gives none.
func Diff(before, after *corev1.PodTemplateSpec) []report.Change {
	if before == nil || after == nil {
		return nil
	}
	d := &differ{}
	d.generic("metadata", withoutRevisionLabels(before.ObjectMeta), withoutRevisionLabels(after.ObjectMeta))
	d.containers("initContainers", before.Spec.InitContainers, after.Spec.InitContainers)
	d.containers("containers", before.Spec.Containers, after.Spec.Containers)
	byName(before.Spec.Volumes, after.Spec.Volumes, func(v corev1.Volume) string { return v.Name }, func(name string, a, b *corev1.Volume) {
		rendered(d, "volumes["+name+"]", a, b, volumeString)
	})
	d.row("nodeSelector", NodeSelector(before.Spec.NodeSelector), NodeSelector(after.Spec.NodeSelector))
	d.row("tolerations", Tolerations(before.Spec.Tolerations), Tolerations(after.Spec.Tolerations))
	d.row("imagePullSecrets", pullSecretsString(before.Spec.ImagePullSecrets), pullSecretsString(after.Spec.ImagePullSecrets))
	d.generic("", restOfSpec(before.Spec), restOfSpec(after.Spec))
	sort.Slice(d.out, func(i, j int) bool { return d.out[i].Path < d.out[j].Path })
	return d.out
}

type differ struct{ out []report.Change }

func (d *differ) row(path, before, after string) {
	if before != after {
		d.out = append(d.out, report.Change{Path: path, Before: before, After: after})
	}
}

// rendered compares one item by its rendering; where the rendering hides a difference (a
// volume's defaultMode, a probe's headers), the item is compared field by field instead.
func rendered[T any](d *differ, path string, a, b *T, render func(T) string) {
	ra, rb := renderOrUnset(a, render), renderOrUnset(b, render)
	if ra != rb {
		d.row(path, ra, rb)
		return
	}
	if a != nil && b != nil && !reflect.DeepEqual(a, b) {
		d.generic(path, a, b)
	}
}

func renderOrUnset[T any](v *T, render func(T) string) string {
	if v == nil {
		return ""
	}
	return render(*v)
}

func (d *differ) containers(kind string, a, b []corev1.Container) {
	byName(a, b, func(c corev1.Container) string { return c.Name }, func(name string, oc, nc *corev1.Container) {
		p := kind + "[" + name + "]"
		if oc == nil || nc == nil {
			d.row(p, renderOrUnset(oc, containerString), renderOrUnset(nc, containerString))
			return
		}
		byName(oc.Env, nc.Env, func(e corev1.EnvVar) string { return e.Name }, func(name string, oe, ne *corev1.EnvVar) {
			d.env(p+".env["+name+"]", oe, ne)
		})
		d.row(p+".envFrom", envFromString(oc.EnvFrom), envFromString(nc.EnvFrom))
		rendered(d, p+".livenessProbe", oc.LivenessProbe, nc.LivenessProbe, probeValue)
		rendered(d, p+".readinessProbe", oc.ReadinessProbe, nc.ReadinessProbe, probeValue)
		rendered(d, p+".startupProbe", oc.StartupProbe, nc.StartupProbe, probeValue)
		d.generic(p, restOfContainer(*oc), restOfContainer(*nc))
	})
}

// env is one row per variable. A credential-named literal is masked on both sides; when it
// changed, the row is still there, so the change is known without either value.
func (d *differ) env(path string, a, b *corev1.EnvVar) {
	ra, rb := renderOrUnset(a, redactedEnv), renderOrUnset(b, redactedEnv)
	raw := func(e *corev1.EnvVar) string { return renderOrUnset(e, EnvSource) }
	switch {
	case ra != rb || raw(a) != raw(b):
		d.out = append(d.out, report.Change{Path: path, Before: ra, After: rb})
	case a != nil && b != nil && !reflect.DeepEqual(a.ValueFrom, b.ValueFrom):
		d.generic(path+".valueFrom", a.ValueFrom, b.ValueFrom) // names and flags only: no value lives here
	}
}

func redactedEnv(e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		return report.RedactEnvValue(e.Name, EnvSource(e))
	}
	return EnvSource(e)
}

func probeValue(p corev1.Probe) string { return Probe(&p) }

func containerString(c corev1.Container) string { return "image " + c.Image }

// restOfContainer is a container without the fields compared one row each.
func restOfContainer(c corev1.Container) corev1.Container {
	c.Env, c.EnvFrom, c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = nil, nil, nil, nil, nil
	return c
}

// restOfSpec is a pod spec without the fields compared one row each.
func restOfSpec(s corev1.PodSpec) corev1.PodSpec {
	s.InitContainers, s.Containers, s.Volumes = nil, nil, nil
	s.NodeSelector, s.Tolerations, s.ImagePullSecrets = nil, nil, nil
	return s
}

// withoutRevisionLabels drops the labels a controller adds to name a revision: ReplicaSets
// carry pod-template-hash and Deployments do not (kubectl ignores it too when comparing).
func withoutRevisionLabels(m metav1.ObjectMeta) metav1.ObjectMeta {
	m.Labels = maps.Clone(m.Labels)
	delete(m.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(m.Labels, appsv1.ControllerRevisionHashLabelKey)
	return m
}

// byName calls f for every name in a or b, in a's order then b's new ones; a side without the
// name gets nil.
func byName[T any](a, b []T, name func(T) string, f func(name string, a, b *T)) {
	find := func(list []T, n string) *T {
		if i := slices.IndexFunc(list, func(x T) bool { return name(x) == n }); i >= 0 {
			return &list[i]
		}
		return nil
	}
	for i := range a {
		f(name(a[i]), &a[i], find(b, name(a[i])))
	}
	for i := range b {
		if find(a, name(b[i])) == nil {
			f(name(b[i]), nil, &b[i])
		}
	}
}

// generic compares two values over their JSON: objects key by key, lists of named items name by
// name, anything else whole.
func (d *differ) generic(path string, a, b any) {
	walk(path, jsonValue(a), jsonValue(b), &d.out)
}

func jsonValue(v any) any {
	raw, _ := json.Marshal(v) // typed API objects always marshal
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func walk(path string, a, b any, out *[]report.Change) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if (aIsMap || a == nil) && (bIsMap || b == nil) && (aIsMap || bIsMap) {
		for _, k := range unionKeys(am, bm) {
			walk(join(path, k), am[k], bm[k], out)
		}
		return
	}
	an, aNamed := named(a)
	bn, bNamed := named(b)
	if (aNamed || a == nil) && (bNamed || b == nil) && (aNamed || bNamed) {
		for _, n := range unionNames(a, b) {
			walk(path+"["+n+"]", an[n], bn[n], out)
		}
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	*out = append(*out, report.Change{Path: path, Before: jsonString(a), After: jsonString(b)})
}

// named indexes a list whose items all have a string "name" (ports, volumeMounts, ...).
func named(v any) (map[string]any, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	m := make(map[string]any, len(list))
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := obj["name"].(string)
		if !ok {
			return nil, false
		}
		rest := make(map[string]any, len(obj))
		for k, v := range obj {
			if k != "name" {
				rest[k] = v
			}
		}
		m[n] = rest
	}
	return m, true
}

func unionNames(a, b any) []string {
	var names []string
	seen := map[string]bool{}
	for _, v := range []any{a, b} {
		list, _ := v.([]any)
		for _, item := range list {
			n := item.(map[string]any)["name"].(string)
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// join appends a key: .key for field names, [key] for map keys like app.kubernetes.io/name.
func join(path, key string) string {
	switch {
	case !ident.MatchString(key):
		return path + "[" + key + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

func jsonString(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
