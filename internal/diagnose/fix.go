package diagnose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Fix commands are the runbook's, with the real names filled in. Placeholders in angle brackets
// (<value>) mark what only the user knows; no command ever carries a Secret value.
//
// People paste fix commands into a shell that holds cluster credentials, and the names in them
// come from pod logs, events and manifests that a pull request controls. So every fix line is
// either a command built by command(), where each word goes through shellQuote, or a note built
// by note(), a one-line comment whose values are quoted the same way. Each command is one simple
// command: no pipes, no substitutions, no redirections.

// shellQuote is the one quoting function for fix commands. A word of only safe characters stays
// bare; a word with a safe "--flag=" or "KEY=" prefix keeps the prefix bare and single-quotes the
// rest (--from-literal=KEY='<value>'); anything else is single-quoted whole.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	u := strings.IndexFunc(s, unsafeShellRune)
	if u < 0 && s[0] != '=' {
		return s
	}
	if e := strings.LastIndexByte(s[:max(u, 0)], '='); u > 0 && e > 0 && s[0] != '=' {
		return s[:e+1] + singleQuote(s[e+1:])
	}
	return singleQuote(s)
}

func singleQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// unsafeShellRune reports a rune that a POSIX shell, bash or zsh may treat specially in a bare word.
func unsafeShellRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r))
}

// shellWord makes s fit on one line of a command: a value with control characters or invalid
// UTF-8 cannot be shown as one readable word, so a placeholder stands in for it.
func shellWord(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0 {
		return "<value>"
	}
	return s
}

// nameOr is s when it is a Kubernetes object name (DNS-1123 subdomain), else placeholder: names
// read from event messages go into commands only when they are names.
func nameOr(s, placeholder string) string {
	if len(validation.IsDNS1123Subdomain(s)) > 0 {
		return placeholder
	}
	return s
}

// hostOr is h when it is a DNS name or an IP address, else placeholder.
func hostOr(h, placeholder string) string {
	if !logparse.ValidHost(h) {
		return placeholder
	}
	return h
}

// command renders one fix command. Each part is a word (string) or a list of words ([]string);
// every word is quoted by shellQuote. A word that starts with "-" and is not one of the gate's own
// options (fixopts.go) came from the cluster: the command becomes a note that runs nothing.
func command(parts ...any) string {
	var words []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			words = append(words, shellWord(p))
		case []string:
			for _, w := range p {
				words = append(words, shellWord(w))
			}
		default:
			panic(fmt.Sprintf("command: part of type %T", p))
		}
	}
	for _, w := range words {
		if foreignOption(w) {
			return note("not a command: the name %s from the cluster starts with \"-\", which kubectl would read as an option; make this change in the manifest", w)
		}
	}
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// note renders a comment line of a fix: format is the gate's own prose (%s verbs only) and each
// value is quoted by shellQuote, so a pasted note stays a comment even where comments are off.
func note(format string, values ...string) string {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = shellQuote(shellWord(v))
	}
	return "# " + fmt.Sprintf(format, args...)
}

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
	return report.Ref{Kind: ev.Kind, Namespace: ev.Namespace, Name: ev.Name}.String()
}

// target is the workload for a command, or a placeholder when unknown.
func (ev *evidence) target() string { return orStr(ev.workloadRef(), "<workload>") }

// ns is the namespace flag of a command.
func (ev *evidence) ns() []string { return nsArgs(ev.Namespace) }

func nsArgs(ns string) []string { return []string{"-n", ns} }

func (ev *evidence) cmdLogs(pod, container string, previous bool) string {
	var prev []string
	if previous {
		prev = []string{"--previous"}
	}
	return command("kubectl", "logs", pod, "-c", container, prev, ev.ns())
}

func (ev *evidence) cmdDescribePod(pod string) string {
	return command("kubectl", "describe", "pod", pod, ev.ns())
}

// cmdUndo rolls the workload back to the previous revision, when there is one.
func (ev *evidence) cmdUndo() []string {
	if ev.workloadRef() == "" || ev.Previous == nil && ev.PreviousRevision == "" {
		return nil
	}
	if ev.tool != nil {
		// Argo's way: abort (back to the stable ReplicaSet), then undo (the spec's template too).
		return []string{note("or roll back to the previous revision (abort, then undo):"),
			command(ev.tool.Command("abort", ev.Namespace, ev.Name)), command(ev.tool.Command("undo", ev.Namespace, ev.Name))}
	}
	return []string{note("or roll back to the previous revision:"), command("kubectl", "rollout", "undo", ev.workloadRef(), ev.ns())}
}

func (ev *evidence) cmdStatus() []string  { return ev.cmdRollout("status", ev.jobWait) }
func (ev *evidence) cmdRestart() []string { return ev.cmdRollout("restart", ev.jobRerun) }

// cmdRollout is `kubectl rollout verb` of the workload, or what stands for it for a Job.
func (ev *evidence) cmdRollout(verb string, job func() []string) []string {
	if ev.workloadRef() == "" {
		return nil
	}
	if ev.completes {
		return job()
	}
	if ev.tool != nil {
		return []string{command(ev.tool.Command(verb, ev.Namespace, ev.Name))}
	}
	return []string{command("kubectl", "rollout", verb, ev.workloadRef(), ev.ns())}
}

// cmdSetEnv sets one env var of one container of the workload.
func (ev *evidence) cmdSetEnv(container, name, value string) string {
	if ev.completes {
		return inManifest("set env %s in container %s", name+"="+value, container)
	}
	if ev.tool != nil { // kubectl set env does not know a custom resource
		return inOwnManifest("set env %s in container %s", name+"="+value, container)
	}
	return command("kubectl", "set", "env", ev.target(), "-c", container, name+"="+value, ev.ns())
}

// cmdPatchSecretKey adds or replaces one key of a Secret. stringData takes the value as text, so
// the command needs no base64 pipeline; the value itself is the user's to fill in.
func (ev *evidence) cmdPatchSecretKey(secret, key string) string {
	p := marshal(map[string]any{"stringData": map[string]string{key: "<value>"}})
	return command("kubectl", "patch", "secret", secret, ev.ns(), "--type=merge", "-p", p)
}

func (ev *evidence) cmdPatchConfigMapKey(cm, key string) string {
	p := marshal(map[string]any{"data": map[string]string{key: "<value>"}})
	return command("kubectl", "patch", "configmap", cm, ev.ns(), "--type=merge", "-p", p)
}

func (ev *evidence) cmdCreateSecret(name string, keys []string) string {
	return command("kubectl", "create", "secret", "generic", name, fromLiterals(keys), ev.ns())
}

func (ev *evidence) cmdCreateConfigMap(name string, keys []string) string {
	return command("kubectl", "create", "configmap", name, fromLiterals(keys), ev.ns())
}

func fromLiterals(keys []string) []string {
	if len(keys) == 0 {
		keys = []string{"<KEY>"}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, "--from-literal="+k+"=<value>")
	}
	return out
}

// cmdListKeys lists the keys (never the values) of a Secret or ConfigMap.
func (ev *evidence) cmdListKeys(kind, name string) string {
	return command("kubectl", "get", kind, name, ev.ns(), "-o", `go-template={{range $k, $v := .data}}{{$k}}{{"\n"}}{{end}}`)
}

// cmdJSONPatch applies one JSON patch to the workload's pod template.
func (ev *evidence) cmdJSONPatch(ops ...map[string]any) string {
	if ev.completes {
		return inManifest("make this JSON patch: %s", marshal(ops))
	}
	return command("kubectl", "patch", ev.target(), ev.ns(), "--type=json", "-p", marshal(ops))
}

// cmdRunDebug runs a throwaway busybox pod in namespace ns with args after "--".
func cmdRunDebug(ns string, args ...string) string {
	return command("kubectl", "run", "debug", "--image=busybox:1.36", "--restart=Never", "--rm", "-it", nsArgs(ns), "--", args)
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

// cmdSetResources sets requests or limits of one container: flags are whole words such as
// "--limits=memory=1Gi".
func (ev *evidence) cmdSetResources(container string, flags ...string) string {
	if ev.completes {
		return ev.jobSetResources(container, flags)
	}
	if ev.tool != nil { // kubectl set resources does not know a custom resource
		return inOwnManifest("set %s on container %s", strings.Join(flags, " "), container)
	}
	return command("kubectl", "set", "resources", ev.target(), "-c", container, flags, ev.ns())
}

func (ev *evidence) cmdSetImage(container, image string) string {
	if ev.completes {
		return inManifest("set the image of container %s to %s", container, image)
	}
	if ev.tool != nil { // kubectl set image does not know a custom resource
		return inOwnManifest("set the image of container %s to %s", container, image)
	}
	return command("kubectl", "set", "image", ev.target(), container+"="+image, ev.ns())
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

// probeField is the JSON field of a probe kind: livenessProbe, readinessProbe, startupProbe.
func probeField(kind podstate.ProbeKind) string { return kind.Lower() + "Probe" }

// inOwnManifest is a fix made in the manifest of a workload kubectl's set commands do not know
// (an Argo Rollout), then applied again: the controller rolls the change out.
func inOwnManifest(format string, values ...string) string {
	return note("in the workload's manifest, "+format+"; then apply it again", values...)
}
