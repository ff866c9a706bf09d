package rollback

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// templateChanges lists what an undo changes in the pod template, as paths like
// containers[api].image or containers[api].env[DB_PORT] (lists of named items are keyed by name),
// with Before the failed template's value and After the value rolled back to. The comparison is
// generic over the template's JSON, so no field is forgotten.
func templateChanges(failed, previous *corev1.PodTemplateSpec) []report.Change {
	var out []report.Change
	a, b := jsonOf(failed), jsonOf(previous)
	diff("metadata", field(a, "metadata"), field(b, "metadata"), &out)
	diff("", field(a, "spec"), field(b, "spec"), &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diff(path string, a, b any, out *[]report.Change) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if (aIsMap || a == nil) && (bIsMap || b == nil) && (aIsMap || bIsMap) {
		for _, k := range unionKeys(am, bm) {
			diff(join(path, k), am[k], bm[k], out)
		}
		return
	}
	an, aNamed := named(a)
	bn, bNamed := named(b)
	if (aNamed || a == nil) && (bNamed || b == nil) && (aNamed || bNamed) {
		for _, n := range unionNames(a, b) {
			diff(path+"["+n+"]", an[n], bn[n], out)
		}
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	*out = append(*out, report.Change{Path: path, Before: render(path, a), After: render(path, b)})
}

// named indexes a list whose items all have a string "name" (containers, env, volumes, ports...).
// An item that is only {name, value} (an env var) is reduced to its value, for shorter paths.
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
		if val, only := rest["value"]; only && len(rest) == 1 {
			m[n] = val
		} else {
			m[n] = rest
		}
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

func render(path string, v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	// Only a literal value (path ends at env[NAME]) is masked; secretKeyRef names and keys are not
	// secret. The rule is the report's, shared with the diagnosis's diff.
	if i := strings.LastIndex(path, ".env["); i >= 0 && strings.HasSuffix(path, "]") {
		if name := path[i+len(".env[") : len(path)-1]; !strings.Contains(name, "]") {
			return report.RedactEnvValue(name, s)
		}
	}
	return s
}

func jsonOf(t *corev1.PodTemplateSpec) map[string]any {
	b, _ := json.Marshal(t) // a typed PodTemplateSpec always marshals
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func field(m map[string]any, k string) any {
	if m == nil {
		return nil
	}
	return m[k]
}
