package diagnose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Fix commands are the runbook's, with the real names filled in. Placeholders in angle brackets
// (<value>) mark what only the user knows; no command ever carries a Secret value.

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// kv renders KEY=value for a command line, quoting each side only as needed.
func kv(k, v string) string { return shellQuote(k) + "=" + shellQuote(v) }

// marshal encodes v as compact JSON without HTML escaping, for patches in commands.
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSpace(b.String())
}

// workloadRef is the workload as kubectl spells it (deployment/api), or "" when unknown.
func (ev *evidence) workloadRef() string {
	if ev.Kind == "" || ev.Name == "" {
		return ""
	}
	return strings.ToLower(ev.Kind) + "/" + ev.Name
}

func (ev *evidence) nsFlag() string { return "-n " + shellQuote(ev.Namespace) }

func (ev *evidence) cmdLogs(pod, container string, previous bool) string {
	s := "kubectl logs " + shellQuote(pod) + " -c " + shellQuote(container)
	if previous {
		s += " --previous"
	}
	return s + " " + ev.nsFlag()
}

func (ev *evidence) cmdDescribePod(pod string) string {
	return "kubectl describe pod " + shellQuote(pod) + " " + ev.nsFlag()
}

// cmdUndo rolls the workload back to the previous revision, when there is one.
func (ev *evidence) cmdUndo() []string {
	if ev.workloadRef() == "" || ev.Previous == nil && ev.PreviousRevision == "" {
		return nil
	}
	return []string{"# or roll back to the previous revision:", "kubectl rollout undo " + ev.workloadRef() + " " + ev.nsFlag()}
}

func (ev *evidence) cmdStatus() []string {
	if ev.workloadRef() == "" {
		return nil
	}
	return []string{"kubectl rollout status " + ev.workloadRef() + " " + ev.nsFlag()}
}

func (ev *evidence) cmdRestart() []string {
	if ev.workloadRef() == "" {
		return nil
	}
	return []string{"kubectl rollout restart " + ev.workloadRef() + " " + ev.nsFlag()}
}

// cmdSetEnv sets one env var of one container of the workload.
func (ev *evidence) cmdSetEnv(container, name, value string) string {
	target := ev.workloadRef()
	if target == "" {
		target = "<workload>"
	}
	return fmt.Sprintf("kubectl set env %s -c %s %s %s", target, shellQuote(container), kv(name, value), ev.nsFlag())
}

// cmdPatchSecretKey adds or replaces one key of a Secret without echoing the value anywhere.
func (ev *evidence) cmdPatchSecretKey(secret, key, op string) string {
	patch := fmt.Sprintf(`[{"op":"%s","path":"/data/%s","value":"'"$(printf %%s '<value>' | base64 | tr -d '\n')"'"}]`, op, jsonPointerEscape(key))
	return fmt.Sprintf("kubectl patch secret %s %s --type=json -p='%s'", shellQuote(secret), ev.nsFlag(), patch)
}

func (ev *evidence) cmdPatchConfigMapKey(cm, key string) string {
	p := marshal(map[string]any{"data": map[string]string{key: "<value>"}})
	return fmt.Sprintf("kubectl patch configmap %s %s --type=merge -p %s", shellQuote(cm), ev.nsFlag(), shellQuote(p))
}

func (ev *evidence) cmdCreateSecret(name string, keys []string) string {
	s := "kubectl create secret generic " + shellQuote(name)
	if len(keys) == 0 {
		keys = []string{"<KEY>"}
	}
	for _, k := range keys {
		s += " --from-literal=" + kv(k, "<value>")
	}
	return s + " " + ev.nsFlag()
}

func (ev *evidence) cmdCreateConfigMap(name string, keys []string) string {
	s := "kubectl create configmap " + shellQuote(name)
	if len(keys) == 0 {
		keys = []string{"<KEY>"}
	}
	for _, k := range keys {
		s += " --from-literal=" + kv(k, "<value>")
	}
	return s + " " + ev.nsFlag()
}

// cmdJSONPatch applies one JSON patch to the workload's pod template.
func (ev *evidence) cmdJSONPatch(ops ...map[string]any) string {
	target := ev.workloadRef()
	if target == "" {
		target = "<workload>"
	}
	return fmt.Sprintf("kubectl patch %s %s --type=json -p %s", target, ev.nsFlag(), shellQuote(marshal(ops)))
}

// containerPath is the JSON pointer of a container in the workload's pod template.
func (ev *evidence) containerPath(name string, init bool) string {
	list, field := []corev1.Container(nil), "containers"
	if spec := ev.podSpec(); spec != nil {
		list = spec.Containers
		if init {
			list, field = spec.InitContainers, "initContainers"
		}
	}
	i := 0
	for j, c := range list {
		if c.Name == name {
			i = j
		}
	}
	return fmt.Sprintf("/spec/template/spec/%s/%d", field, i)
}

func (ev *evidence) cmdSetResources(container, flags string) string {
	target := ev.workloadRef()
	if target == "" {
		target = "<workload>"
	}
	return fmt.Sprintf("kubectl set resources %s -c %s %s %s", target, shellQuote(container), flags, ev.nsFlag())
}

func (ev *evidence) cmdSetImage(container, image string) string {
	target := ev.workloadRef()
	if target == "" {
		target = "<workload>"
	}
	return fmt.Sprintf("kubectl set image %s %s %s", target, shellQuote(container+"="+image), ev.nsFlag())
}

func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// doubleQuantity returns 2×q in a readable unit (512Mi -> 1Gi).
func doubleQuantity(q resource.Quantity) string {
	v := q.Value() * 2
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if v%u.size == 0 {
			return strconv.FormatInt(v/u.size, 10) + u.suffix
		}
	}
	if v >= 1<<20 {
		return strconv.FormatInt((v+(1<<20)-1)>>20, 10) + "Mi"
	}
	return resource.NewQuantity(v, resource.BinarySI).String()
}

// probeField is the JSON field of a probe kind.
func probeField(kind string) string {
	switch kind {
	case "readiness":
		return "readinessProbe"
	case "startup":
		return "startupProbe"
	}
	return "livenessProbe"
}
