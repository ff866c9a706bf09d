package diagnose

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

var (
	reSecretNotFound    = regexp.MustCompile(`secrets? "([^"]+)" not found`)
	reConfigMapNotFound = regexp.MustCompile(`(?i)configmaps? "([^"]+)" not found`)
	reMissingKey        = regexp.MustCompile(`couldn't find key (\S+) in (Secret|ConfigMap) ([^/\s]+)/(\S+)`)
	reCMNoKey           = regexp.MustCompile(`configmap references non-existent config key: (\S+)`)
	reForVolume         = regexp.MustCompile(`for volume "([^"]+)"`)
)

// configRefProblem explains CreateContainerConfigError: a missing Secret, ConfigMap or key, or
// an unsatisfiable security context. "failed to sync ... cache" is usually transient: then the
// gathered existence of every referenced object decides.
func configRefProblem(c *containerCtx, msg string) report.Finding {
	if msg == "" {
		for _, e := range c.eventsWith(podstate.EventFailed, "Error: ") {
			msg = strings.TrimPrefix(e.Message, "Error: ")
		}
	}
	if f, ok := missingFromMessage(c, msg); ok {
		return f
	}
	if strings.Contains(msg, "runAsNonRoot") || strings.Contains(msg, "non-numeric user") {
		f := c.base(report.CauseConfigError, report.ConfidenceHigh)
		f.Summary = c.label() + " cannot start: its securityContext requires a non-root user but the image runs as root"
		f.Detail = fmt.Sprintf("securityContext.runAsNonRoot is true for %s, and the image %s does not set a numeric non-root USER; set securityContext.runAsUser to a non-zero UID or fix the image", c.label(), c.image())
		f.Evidence = appendNonEmpty(f.Evidence, "CreateContainerConfigError: "+msg)
		if ch, ok := changeFor(c.ev.Changes, "securityContext.runAsNonRoot"); ok {
			f.Change = describeChange("securityContext.runAsNonRoot", ch)
		}
		f.Fix = append([]string{c.ev.cmdDescribePod(c.pod.Name)},
			c.ev.cmdJSONPatch(map[string]any{"op": "add", "path": c.ev.containerPath(c.st.Name, c.init) + "/securityContext/runAsUser", "value": 10001}))
		f.Fix = append(f.Fix, c.ev.cmdUndo()...)
		return f
	}
	// The kubelet's message is not telling: check what was gathered.
	for _, r := range c.containerRefs() {
		if f, ok := missingFromGathered(c, r); ok {
			f.Evidence = append(f.Evidence, "CreateContainerConfigError: "+msg)
			return f
		}
	}
	f := c.base(report.CauseUnknown, report.ConfidenceLow)
	f.Summary = c.label() + " cannot be created (CreateContainerConfigError) and every Secret and ConfigMap it references exists"
	f.Detail = "the kubelet said: " + msg
	if podstate.CacheNotSynced(podstate.ReasonCreateContainerConfigError, msg) {
		f.Detail += "; this message usually means the kubelet has not yet synced the object and clears on its own"
	}
	f.Evidence = appendNonEmpty(f.Evidence, "CreateContainerConfigError: "+msg)
	f.Fix = []string{c.ev.cmdDescribePod(c.pod.Name)}
	return f
}

// missingFromMessage recognises "secret "x" not found", "couldn't find key K in Secret ns/x" and
// the ConfigMap equivalents in a kubelet message.
func missingFromMessage(c *containerCtx, msg string) (report.Finding, bool) {
	if m := reMissingKey.FindStringSubmatch(msg); m != nil {
		return missingKey(c, m[2], m[4], m[1], msg), true
	}
	if m := reSecretNotFound.FindStringSubmatch(msg); m != nil {
		return missingObject(c, kindSecret, m[1], msg), true
	}
	if m := reConfigMapNotFound.FindStringSubmatch(msg); m != nil {
		return missingObject(c, kindConfigMap, m[1], msg), true
	}
	return report.Finding{}, false
}

// missingFromGathered checks one reference against the gathered Secrets and ConfigMaps.
func missingFromGathered(c *containerCtx, r ref) (report.Finding, bool) {
	if r.Optional {
		return report.Finding{}, false
	}
	info := c.ev.object(r.Kind, r.Name)
	if info == nil || info.Err != "" {
		return report.Finding{}, false
	}
	if !info.Exists {
		return missingObject(c, r.Kind, r.Name, ""), true
	}
	if r.Key != "" && !slices.Contains(info.Keys, r.Key) {
		return missingKey(c, r.Kind, r.Name, r.Key, ""), true
	}
	return report.Finding{}, false
}

func (ev *evidence) object(kind, name string) *objectInfo {
	if kind == kindSecret {
		return ev.Secrets[name]
	}
	return ev.ConfigMaps[name]
}

// containerRefs lists the references this container depends on: its env and envFrom, and the
// volumes it mounts.
func (c *containerCtx) containerRefs() []ref {
	var mounts []string
	if c.spec != nil {
		for _, m := range c.spec.VolumeMounts {
			mounts = append(mounts, m.Name)
		}
	}
	var out []ref
	for _, r := range podRefs(&c.pod.Spec) {
		if r.Container == c.st.Name && r.Init == c.init || r.Volume != "" && slices.Contains(mounts, r.Volume) {
			out = append(out, r)
		}
	}
	return out
}

// fieldsFor describes how the container reaches kind/name: "env DB_PASSWORD", "envFrom",
// "volume creds (mounted at /etc/creds)"; key limits it to references of that key.
func (c *containerCtx) fieldsFor(kind, name, key string) []string {
	var out []string
	for _, r := range c.containerRefs() {
		if r.Kind != kind || r.Name != name || key != "" && r.Key != "" && r.Key != key {
			continue
		}
		if key != "" && r.Key == "" && r.Field != "envFrom" {
			continue
		}
		s := r.Field
		if r.Volume != "" && c.spec != nil {
			for _, m := range c.spec.VolumeMounts {
				if m.Name == r.Volume {
					s += " (mounted at " + m.MountPath + ")"
					break
				}
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// refChange finds the change in this rollout that introduced a reference to kind/name.
func (c *containerCtx) refChange(kind, name string) (report.Change, string, bool) {
	for _, r := range c.containerRefs() {
		if r.Kind != kind || r.Name != name {
			continue
		}
		var path, subject string
		switch {
		case r.EnvVar != "":
			path, subject = c.path()+".env["+r.EnvVar+"]", "env "+r.EnvVar+" of "+c.label()
		case r.Field == "envFrom":
			path, subject = c.path()+".envFrom", "envFrom of "+c.label()
		case r.Volume != "":
			path, subject = "volumes["+r.Volume+"]", "volume "+r.Volume
		}
		if ch, ok := changeFor(c.ev.Changes, path); ok {
			return ch, subject, true
		}
	}
	return report.Change{}, "", false
}

// missingCause names what is missing: a Secret or ConfigMap, or (key != "") a key of one.
func missingCause(kind, key string) report.Cause {
	switch {
	case kind == kindConfigMap && key != "":
		return report.CauseMissingConfigMapKey
	case kind == kindConfigMap:
		return report.CauseMissingConfigMap
	case key != "":
		return report.CauseMissingSecretKey
	}
	return report.CauseMissingSecret
}

// missingObject: the container references a Secret or ConfigMap that does not exist.
func missingObject(c *containerCtx, kind, name, msg string) report.Finding {
	ev := c.ev
	f := c.base(missingCause(kind, ""), report.ConfidenceHigh)
	full := ev.Namespace + "/" + name
	f.Summary = fmt.Sprintf("%s %s does not exist, so %s cannot start", kind, full, c.label())
	fields := c.fieldsFor(kind, name, "")
	verb := "reads"
	if len(fields) > 1 {
		verb = "read"
	}
	if len(fields) == 0 {
		fields = []string{"the pod spec"}
	}
	f.Detail = fmt.Sprintf("%s of %s %s %s %s, which does not exist", report.JoinAnd(fields), c.label(), verb, kind, full)
	if info := ev.object(kind, name); info != nil && info.Err != "" {
		f.Detail += " (the kubelet says so; the gate could not check: " + info.Err + ")"
	} else if info != nil && info.Exists {
		f.Detail = fmt.Sprintf("%s of %s %s %s %s; the kubelet did not find it, but it exists now (created after the pod started?)", report.JoinAnd(fields), c.label(), verb, kind, full)
		f.Confidence = report.ConfidenceMedium
	}
	if msg != "" && c.st.State.Waiting != nil {
		f.Evidence = append(f.Evidence, c.waitingReason()+": "+msg)
	}
	for _, e := range c.eventsWith(podstate.EventFailed, name) {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	for _, e := range ev.podEvents(c.pod.Name, "") {
		if e.Reason == podstate.EventFailedMount && strings.Contains(e.Message, `"`+name+`"`) {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	if ch, subject, ok := c.refChange(kind, name); ok {
		f.Change = describeChange(subject, ch)
	}
	keys := c.referencedKeys(kind, name)
	if kind == kindSecret {
		f.Fix = []string{command("kubectl", "get", "secrets", ev.ns()), ev.cmdCreateSecret(name, keys)}
	} else {
		f.Fix = []string{command("kubectl", "get", "configmaps", ev.ns()), ev.cmdCreateConfigMap(name, keys)}
	}
	f.Fix = append(f.Fix, report.RetryLeadIn)
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	if f.Change != "" {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

// referencedKeys lists the keys of kind/name the pod references explicitly (env keys, volume items).
func (c *containerCtx) referencedKeys(kind, name string) []string {
	var keys []string
	for _, r := range podRefs(&c.pod.Spec) {
		if r.Kind == kind && r.Name == name && r.Key != "" && !slices.Contains(keys, r.Key) {
			keys = append(keys, r.Key)
		}
	}
	return keys
}

func (c *containerCtx) waitingReason() string {
	if w := c.st.State.Waiting; w != nil && w.Reason != "" {
		return w.Reason
	}
	return "kubelet"
}

// missingKey: the Secret or ConfigMap exists but lacks the referenced key.
func missingKey(c *containerCtx, kind, name, key, msg string) report.Finding {
	ev := c.ev
	f := c.base(missingCause(kind, key), report.ConfidenceHigh)
	full := ev.Namespace + "/" + name
	f.Summary = fmt.Sprintf("key %s missing from %s %s", key, kind, full)
	fields := c.fieldsFor(kind, name, key)
	if len(fields) == 0 {
		fields = []string{"the pod spec"}
	}
	verb := "reads"
	if len(fields) > 1 {
		verb = "read"
	}
	f.Detail = fmt.Sprintf("%s of %s %s key %s of %s %s", report.JoinAnd(fields), c.label(), verb, key, kind, full)
	var similar string
	if info := ev.object(kind, name); info != nil && info.Exists {
		if len(info.Keys) == 0 {
			f.Detail += ", which has no keys"
		} else {
			f.Detail += ", which has " + report.Plural(len(info.Keys), "key ", "keys ") + strings.Join(info.Keys, ", ")
		}
		similar = closest(key, info.Keys)
		if similar != "" {
			f.Detail += fmt.Sprintf(" (did you mean %s?)", similar)
		}
	}
	if msg != "" && c.st.State.Waiting != nil {
		f.Evidence = append(f.Evidence, c.waitingReason()+": "+msg)
	}
	for _, e := range c.eventsWith(podstate.EventFailed, key) {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	if ch, subject, ok := c.refChange(kind, name); ok {
		f.Change = describeChange(subject, ch)
	}
	if kind == kindSecret {
		f.Fix = []string{
			ev.cmdListKeys("secret", name),
			ev.cmdPatchSecretKey(name, key),
		}
	} else {
		f.Fix = []string{
			ev.cmdListKeys("configmap", name),
			ev.cmdPatchConfigMapKey(name, key),
		}
	}
	if similar != "" {
		f.Fix = append(f.Fix, note("or point the reference at the existing key %s in the manifest", similar))
	}
	f.Fix = append(f.Fix, report.RetryLeadIn)
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	if f.Change != "" {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

// closest returns the key most like k (same letters ignoring case, or at most 2 edits), or "".
func closest(k string, keys []string) string {
	best, bestD := "", 3
	for _, c := range keys {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := editDistance(strings.ToUpper(c), strings.ToUpper(k)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var notSetWords = regexp.MustCompile(`(?i)not set|unset|missing|required|not defined|undefined|keyerror|is empty|no value|must be set`)

// configError: the app rejected an environment variable at start-up (runbook root cause 1).
func configError(c *containerCtx, name string, idx int) report.Finding {
	ev := c.ev
	f := c.base(report.CauseConfigError, report.ConfidenceHigh)
	line := c.logs.Lines[idx]
	e, declared := c.envVar(name)
	notSet := notSetWords.MatchString(line) && (!declared || e.ValueFrom == nil && e.Value == "")
	switch {
	case notSet:
		f.Summary = fmt.Sprintf("%s exits at start-up because env %s is not set", c.label(), name)
	case declared && e.ValueFrom == nil:
		f.Summary = fmt.Sprintf("%s exits at start-up because env %s has an invalid value (%s)", c.label(), name, strconv.Quote(e.Value))
	default:
		f.Summary = fmt.Sprintf("%s exits at start-up because env %s has an invalid value", c.label(), name)
	}
	var fix []string
	ch, changed := changeFor(ev.Changes, c.path()+".env["+name+"]")
	switch {
	case declared && e.ValueFrom == nil:
		f.Detail = fmt.Sprintf("env %s of %s is %s (a literal in the pod template); the app rejects it", name, c.label(), strconv.Quote(e.Value))
		val := "<valid value>"
		if changed && ch.Before != "" && !strings.Contains(ch.Before, "Ref ") {
			if prev, err := strconv.Unquote(ch.Before); err == nil {
				val = prev
			}
		}
		fix = append(fix, ev.cmdSetEnv(c.st.Name, name, val))
	case declared && e.ValueFrom.SecretKeyRef != nil:
		s := e.ValueFrom.SecretKeyRef
		f.Detail = fmt.Sprintf("env %s of %s reads key %s of Secret %s/%s; the app rejects that value (not shown: it is a Secret)", name, c.label(), s.Key, ev.Namespace, s.Name)
		fix = append(fix, ev.cmdPatchSecretKey(s.Name, s.Key), note("the container reads the new value at its next restart"))
	case declared && e.ValueFrom.ConfigMapKeyRef != nil:
		m := e.ValueFrom.ConfigMapKeyRef
		f.Detail = fmt.Sprintf("env %s of %s reads key %s of ConfigMap %s/%s; the app rejects that value", name, c.label(), m.Key, ev.Namespace, m.Name)
		fix = append(fix, ev.cmdPatchConfigMapKey(m.Name, m.Key), note("the container reads the new value at its next restart"))
	case declared:
		f.Detail = fmt.Sprintf("env %s of %s is set from %s; the app rejects it", name, c.label(), podtemplate.EnvSource(e))
		fix = append(fix, ev.cmdSetEnv(c.st.Name, name, "<valid value>"))
	default:
		if src := c.envFromSource(name); src != "" {
			f.Detail = fmt.Sprintf("%s gets %s from %s; the app rejects it", c.label(), name, src)
		} else {
			f.Detail = fmt.Sprintf("%s declares no env %s and no envFrom source provides it", c.label(), name)
			f.Confidence = report.ConfidenceMedium
			if !notSet && !logparse.HasSnakeCase(name) {
				f.Confidence = report.ConfidenceLow
			}
		}
		val := "<value>"
		if changed && ch.After == "" {
			if prev, err := strconv.Unquote(ch.Before); err == nil {
				val = prev
			}
		}
		fix = append(fix, ev.cmdSetEnv(c.st.Name, name, val))
	}
	if changed {
		f.Change = describeChange(name, ch)
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.logLine(idx), c.exitLine(), c.restartLine())
	f.Fix = append([]string{c.cmdLogs()}, fix...)
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	if changed {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

// envFromSource names the envFrom source that provides name, if one does.
func (c *containerCtx) envFromSource(name string) string {
	if c.spec == nil {
		return ""
	}
	for _, ef := range c.spec.EnvFrom {
		key, ok := strings.CutPrefix(name, ef.Prefix)
		if !ok {
			continue
		}
		if ef.ConfigMapRef != nil {
			if info := c.ev.ConfigMaps[ef.ConfigMapRef.Name]; info != nil && slices.Contains(info.Keys, key) {
				return fmt.Sprintf("key %s of ConfigMap %s/%s (envFrom)", key, c.ev.Namespace, ef.ConfigMapRef.Name)
			}
		}
		if ef.SecretRef != nil {
			if info := c.ev.Secrets[ef.SecretRef.Name]; info != nil && slices.Contains(info.Keys, key) {
				return fmt.Sprintf("key %s of Secret %s/%s (envFrom)", key, c.ev.Namespace, ef.SecretRef.Name)
			}
		}
	}
	return ""
}

func (c *containerCtx) image() string {
	if c.spec != nil {
		return c.spec.Image
	}
	return c.st.Image
}

// podLevel explains a pod whose containers have not started: volumes that cannot be mounted
// (a missing Secret or ConfigMap behind a volume), or a sandbox that cannot be created.
func podLevel(ev *evidence, pod *corev1.Pod) (report.Finding, bool) {
	if pod.Status.Phase != corev1.PodPending && pod.Status.Phase != "" {
		return report.Finding{}, false
	}
	first := corev1.ContainerStatus{}
	if len(pod.Spec.Containers) > 0 {
		first.Name = pod.Spec.Containers[0].Name
	}
	// A Secret or ConfigMap volume the kubelet cannot set up, whichever FailedMount says so, or
	// the gathered objects when no event does (before a generic "timed out waiting" event).
	if f, ok := mountFailure(ev, pod); ok {
		return f, true
	}
	if f, ok := volumeFromGathered(ev, pod); ok {
		return f, true
	}
	// Otherwise the kubelet's own words, those naming a volume before its generic "Unable to
	// attach or mount volumes ... timed out waiting for the condition".
	mounts := slices.DeleteFunc(ev.podEvents(pod.Name, ""), func(e corev1.Event) bool { return e.Reason != podstate.EventFailedMount })
	slices.SortStableFunc(mounts, func(a, b corev1.Event) int {
		return cmp.Compare(boolInt(!reForVolume.MatchString(a.Message)), boolInt(!reForVolume.MatchString(b.Message)))
	})
	for _, e := range mounts {
		// The container that mounts the failing volume, when the message names it.
		st := first
		if m := reForVolume.FindStringSubmatch(e.Message); m != nil {
			for _, c := range pod.Spec.Containers {
				if slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.Name == m[1] }) {
					st.Name = c.Name
					break
				}
			}
		}
		c := newContainerCtx(ev, pod, st, false)
		if m := reCMNoKey.FindStringSubmatch(e.Message); m != nil {
			for _, r := range c.containerRefs() {
				if r.Kind == kindConfigMap && r.Key == m[1] {
					return missingKey(c, kindConfigMap, r.Name, m[1], e.Message), true
				}
			}
		}
		if f, ok := missingFromMessage(c, e.Message); ok {
			return f, true
		}
		f := c.base(report.CauseUnknown, report.ConfidenceMedium)
		f.Container = ""
		f.Summary = "a volume of the pod cannot be mounted, so its containers never start"
		f.Detail = "the kubelet keeps failing to mount a volume: " + firstLine(e.Message, 400)
		f.Evidence = append(f.Evidence, eventLine(&e))
		f.Fix = []string{ev.cmdDescribePod(pod.Name), command("kubectl", "get", "pvc,secrets,configmaps", ev.ns())}
		return f, true
	}
	for _, e := range ev.podEvents(pod.Name, "") {
		if e.Reason == "FailedCreatePodSandBox" {
			f := report.Finding{Cause: report.CauseUnknown, Pod: pod.Name, Confidence: report.ConfidenceMedium}
			f.Summary = "the node cannot create the pod's sandbox (network or runtime problem on the node)"
			f.Detail = firstLine(e.Message, 400)
			f.Evidence = []string{eventLine(&e)}
			f.Fix = []string{ev.cmdDescribePod(pod.Name)}
			if pod.Spec.NodeName != "" {
				f.Fix = append(f.Fix, command("kubectl", "describe", "node", pod.Spec.NodeName))
			}
			return f, true
		}
	}
	return report.Finding{}, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
