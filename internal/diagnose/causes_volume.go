package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// A Secret or ConfigMap volume that cannot be set up keeps the whole pod in ContainerCreating:
// the kubelet retries the mount for ever and says why only in FailedMount events. The finding
// points at the volume (spec.volumes[i], and the projected source), at the mounts that use it,
// and proposes the fixes for both ways it goes wrong: the object (or a key its items name) does
// not exist, or the volume names the wrong one.

var (
	// The kubelet's secret and configMap volume plugins (also for projected sources).
	reVolSecretNoKey = regexp.MustCompile(`references non-existent secret key: (\S+)`)
	// "pod api-x: MountVolume.SetUp failed ...": the watch's message for a FailedMount verdict.
	reWatchPodPrefix = regexp.MustCompile(`^pod (\S+): `)
)

// volumeSource is one Secret or ConfigMap behind a pod volume: a secret or configMap volume, or
// one source of a projected volume.
type volumeSource struct {
	Volume   string
	Index    int // in spec.volumes
	Source   int // in spec.volumes[Index].projected.sources; -1 for a plain volume
	Kind     string
	Name     string
	Items    []corev1.KeyToPath
	Optional bool
}

// field is where the source is in the pod spec: spec.volumes[0] or spec.volumes[1].projected.sources[0].
func (s volumeSource) field() string {
	f := "spec.volumes[" + strconv.Itoa(s.Index) + "]"
	if s.Source >= 0 {
		f += ".projected.sources[" + strconv.Itoa(s.Source) + "]"
	}
	return f
}

// jsonField is the source's field name in the manifest: secret or configMap.
func (s volumeSource) jsonField() string {
	if s.Kind == kindSecret {
		return "secret"
	}
	return "configMap"
}

// nameField is the field that names the object: secretName for a secret volume, name otherwise.
func (s volumeSource) nameField() string {
	if s.Kind == kindSecret && s.Source < 0 {
		return "secretName"
	}
	return "name"
}

// pointer is the JSON pointer of the source in the workload's pod template.
func (s volumeSource) pointer() string {
	p := "/spec/template/spec/volumes/" + strconv.Itoa(s.Index)
	if s.Source >= 0 {
		p += "/projected/sources/" + strconv.Itoa(s.Source)
	}
	return p + "/" + s.jsonField()
}

// what names the volume in a sentence: "volume tls" or "projected volume creds".
func (s volumeSource) what() string {
	if s.Source >= 0 {
		return "projected volume " + s.Volume
	}
	return "volume " + s.Volume
}

// item returns the index of key among the source's items, or -1.
func (s volumeSource) item(key string) int {
	return slices.IndexFunc(s.Items, func(it corev1.KeyToPath) bool { return it.Key == key })
}

func (s volumeSource) itemKeys() []string {
	var keys []string
	for _, it := range s.Items {
		if !slices.Contains(keys, it.Key) {
			keys = append(keys, it.Key)
		}
	}
	return keys
}

// volumeSourcesOf lists the Secrets and ConfigMaps behind the named volume of spec.
func volumeSourcesOf(spec *corev1.PodSpec, volume string) []volumeSource {
	if spec == nil {
		return nil
	}
	var out []volumeSource
	for i, v := range spec.Volumes {
		if v.Name != volume {
			continue
		}
		switch {
		case v.Secret != nil:
			out = append(out, volumeSource{Volume: v.Name, Index: i, Source: -1, Kind: kindSecret, Name: v.Secret.SecretName,
				Items: v.Secret.Items, Optional: deref(v.Secret.Optional)})
		case v.ConfigMap != nil:
			out = append(out, volumeSource{Volume: v.Name, Index: i, Source: -1, Kind: kindConfigMap, Name: v.ConfigMap.Name,
				Items: v.ConfigMap.Items, Optional: deref(v.ConfigMap.Optional)})
		case v.Projected != nil:
			for j, src := range v.Projected.Sources {
				if s := src.Secret; s != nil {
					out = append(out, volumeSource{Volume: v.Name, Index: i, Source: j, Kind: kindSecret, Name: s.Name,
						Items: s.Items, Optional: deref(s.Optional)})
				}
				if m := src.ConfigMap; m != nil {
					out = append(out, volumeSource{Volume: v.Name, Index: i, Source: j, Kind: kindConfigMap, Name: m.Name,
						Items: m.Items, Optional: deref(m.Optional)})
				}
			}
		}
	}
	return out
}

// mountRef is one container's mount of a volume.
type mountRef struct {
	Container string
	Init      bool
	Index     int // of the container in spec.containers (or spec.initContainers)
	Mount     int // in its volumeMounts
	Path      string
}

// label names the container as findings do: "container api" or "init container migrate".
func (m mountRef) label() string {
	if m.Init {
		return "init container " + m.Container
	}
	return "container " + m.Container
}

func (m mountRef) field() string {
	list := "containers"
	if m.Init {
		list = "initContainers"
	}
	return fmt.Sprintf("spec.%s[%d].volumeMounts[%d]", list, m.Index, m.Mount)
}

// mountsOf lists the mounts of the named volume, app containers first.
func mountsOf(spec *corev1.PodSpec, volume string) []mountRef {
	if spec == nil {
		return nil
	}
	var out []mountRef
	walk := func(cs []corev1.Container, init bool) {
		for i, c := range cs {
			for k, vm := range c.VolumeMounts {
				if vm.Name == volume {
					out = append(out, mountRef{Container: c.Name, Init: init, Index: i, Mount: k, Path: vm.MountPath})
				}
			}
		}
	}
	walk(spec.Containers, false)
	walk(spec.InitContainers, true)
	return out
}

// volumeSpec is the spec whose indexes a finding about volume reports: the new template's (what
// the user wrote and what a patch edits), else the pod's.
func (ev *evidence) volumeSpec(pod *corev1.Pod, volume string) *corev1.PodSpec {
	if ev.Template != nil && slices.ContainsFunc(ev.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == volume }) {
		return &ev.Template.Spec
	}
	return &pod.Spec
}

// volumeProblem is what a mount failure says: which source of which volume, and the key when a
// key its items name is what is missing ("" when the object itself is).
type volumeProblem struct {
	Src volumeSource
	Key string
}

// parseMountFailure reads a FailedMount message about a Secret or ConfigMap volume:
//
//	MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found
//	MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found
//	MountVolume.SetUp failed for volume "tls" : references non-existent secret key: tls.key
//	MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: app.yaml
//
// ok is false for any other volume or message (a PVC, a CSI driver, "timed out waiting").
func parseMountFailure(ev *evidence, pod *corev1.Pod, msg string) (p volumeProblem, spec *corev1.PodSpec, ok bool) {
	m := reForVolume.FindStringSubmatch(msg)
	if m == nil {
		return volumeProblem{}, nil, false
	}
	spec = ev.volumeSpec(pod, m[1])
	srcs := volumeSourcesOf(spec, m[1])
	find := func(kind, name, key string) (volumeProblem, bool) {
		for _, s := range srcs {
			if s.Kind == kind && (name == "" || s.Name == name) && (key == "" || name != "" || s.item(key) >= 0) {
				return volumeProblem{Src: s, Key: key}, true
			}
		}
		return volumeProblem{}, false
	}
	var found bool
	switch {
	case reSecretNotFound.MatchString(msg):
		p, found = find(kindSecret, reSecretNotFound.FindStringSubmatch(msg)[1], "")
	case reConfigMapNotFound.MatchString(msg):
		p, found = find(kindConfigMap, reConfigMapNotFound.FindStringSubmatch(msg)[1], "")
	case reMissingKey.MatchString(msg):
		k := reMissingKey.FindStringSubmatch(msg)
		p, found = find(k[2], k[4], k[1])
	case reVolSecretNoKey.MatchString(msg):
		p, found = find(kindSecret, "", reVolSecretNoKey.FindStringSubmatch(msg)[1])
	case reCMNoKey.MatchString(msg):
		p, found = find(kindConfigMap, "", reCMNoKey.FindStringSubmatch(msg)[1])
	}
	return p, spec, found
}

// mountFailure explains a pod whose Secret or ConfigMap volume cannot be mounted, from its
// FailedMount events or, when none could be read, from the watch's FailedMount verdict.
func mountFailure(ev *evidence, pod *corev1.Pod) (report.Finding, bool) {
	for _, e := range ev.podEvents(pod.Name, "") {
		if e.Reason != podstate.EventFailedMount {
			continue
		}
		if p, spec, ok := parseMountFailure(ev, pod, e.Message); ok {
			return missingVolumeSource(ev, pod, spec, p, ""), true
		}
	}
	if ev.Reason == podstate.EventFailedMount {
		if m := reWatchPodPrefix.FindStringSubmatch(ev.Message); m != nil && m[1] == pod.Name {
			if p, spec, ok := parseMountFailure(ev, pod, ev.Message); ok {
				return missingVolumeSource(ev, pod, spec, p, "the watch saw FailedMount: "+ev.Message), true
			}
		}
	}
	return report.Finding{}, false
}

// volumeFromGathered checks the pod's Secret and ConfigMap volumes against the gathered objects,
// for when no event says why the pod does not start. Volumes that FailedMount events name come
// first ("failed to sync configmap cache: timed out waiting for the condition" names the volume
// but not the object), and in them the sources of the kind the message names.
func volumeFromGathered(ev *evidence, pod *corev1.Pod) (report.Finding, bool) {
	type candidate struct {
		src  volumeSource
		spec *corev1.PodSpec
		rank int // lower first: named by an event, then of the kind it names
	}
	hints := map[string]string{} // volume -> a message naming it
	for _, e := range ev.podEvents(pod.Name, "") {
		if m := reForVolume.FindStringSubmatch(e.Message); e.Reason == podstate.EventFailedMount && m != nil && hints[m[1]] == "" {
			hints[m[1]] = strings.ToLower(e.Message)
		}
	}
	var cands []candidate
	for _, v := range pod.Spec.Volumes {
		spec := ev.volumeSpec(pod, v.Name)
		for _, s := range volumeSourcesOf(spec, v.Name) {
			rank := 3
			if msg, ok := hints[v.Name]; ok {
				rank = 1
				if strings.Contains(msg, strings.ToLower(s.Kind)) {
					rank = 0
				}
			}
			cands = append(cands, candidate{s, spec, rank})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.rank - b.rank })
	for _, cand := range cands {
		s := cand.src
		info := ev.object(s.Kind, s.Name)
		if s.Optional || info == nil || info.Err != "" {
			continue
		}
		if !info.Exists {
			return missingVolumeSource(ev, pod, cand.spec, volumeProblem{Src: s}, ""), true
		}
		for _, k := range s.itemKeys() {
			if !slices.Contains(info.Keys, k) {
				return missingVolumeSource(ev, pod, cand.spec, volumeProblem{Src: s, Key: k}, ""), true
			}
		}
	}
	return report.Finding{}, false
}

// missingVolumeSource: a Secret or ConfigMap volume (or projected source) names an object, or a
// key, that does not exist, so the kubelet cannot set the volume up and no container of the pod
// starts. note is evidence to add when no event says so.
func missingVolumeSource(ev *evidence, pod *corev1.Pod, spec *corev1.PodSpec, p volumeProblem, note string) report.Finding {
	s := p.Src
	mounts := mountsOf(spec, s.Volume)
	st := corev1.ContainerStatus{}
	init := false
	switch {
	case len(mounts) > 0:
		st.Name, init = mounts[0].Container, mounts[0].Init
	case len(pod.Spec.Containers) > 0:
		st.Name = pod.Spec.Containers[0].Name
	}
	statuses := pod.Status.ContainerStatuses
	if init {
		statuses = pod.Status.InitContainerStatuses
	}
	if i := slices.IndexFunc(statuses, func(cs corev1.ContainerStatus) bool { return cs.Name == st.Name }); i >= 0 {
		st = statuses[i]
	}
	c := newContainerCtx(ev, pod, st, init)

	f := c.base(missingCause(s.Kind, p.Key), report.ConfidenceHigh)
	full := ev.Namespace + "/" + s.Name
	info := ev.object(s.Kind, s.Name)

	who := "the pod's containers cannot start"
	if containers := mountContainers(mounts); len(containers) == 1 {
		who = containers[0] + " cannot start"
	}
	var mounted []string
	for _, m := range mounts {
		mounted = append(mounted, fmt.Sprintf("%s mounts it at %s (%s)", m.label(), m.Path, m.field()))
	}
	if len(mounted) == 0 {
		mounted = []string{"no container mounts it, yet the kubelet sets every volume up before the pod starts"}
	}

	var similar string
	if p.Key == "" {
		f.Summary = fmt.Sprintf("%s %s does not exist, so %s cannot be mounted and %s", s.Kind, full, s.what(), who)
		f.Detail = fmt.Sprintf("%s (%s.%s.%s) names %s %s, which does not exist", s.what(), s.field(), s.jsonField(), s.nameField(), s.Kind, full)
		switch {
		case info != nil && info.Err != "":
			f.Detail += " (the kubelet says so; the gate could not check: " + info.Err + ")"
		case info != nil && info.Exists:
			f.Detail = fmt.Sprintf("%s (%s.%s.%s) names %s %s; the kubelet did not find it, but it exists now (created after the pod started?)", s.what(), s.field(), s.jsonField(), s.nameField(), s.Kind, full)
			f.Confidence = report.ConfidenceMedium
		}
		if keys := s.itemKeys(); len(keys) > 0 {
			f.Detail += "; its items name " + report.Plural(len(keys), "key ", "keys ") + strings.Join(keys, ", ")
		}
	} else {
		f.Summary = fmt.Sprintf("key %s missing from %s %s, so %s cannot be mounted and %s", p.Key, s.Kind, full, s.what(), who)
		where := s.field() + "." + s.jsonField() + ".items"
		if i := s.item(p.Key); i >= 0 {
			where += "[" + strconv.Itoa(i) + "]"
		}
		f.Detail = fmt.Sprintf("%s (%s) asks for key %s of %s %s", s.what(), where, p.Key, s.Kind, full)
		if info != nil && info.Exists {
			if len(info.Keys) == 0 {
				f.Detail += ", which has no keys"
			} else {
				f.Detail += ", which has " + report.Plural(len(info.Keys), "key ", "keys ") + strings.Join(info.Keys, ", ")
			}
			if similar = closest(p.Key, info.Keys); similar != "" {
				f.Detail += fmt.Sprintf(" (did you mean %s?)", similar)
			}
		}
	}
	f.Detail += "; " + strings.Join(mounted, "; ")

	for _, e := range ev.podEvents(pod.Name, "") {
		if e.Reason == podstate.EventFailedMount && strings.Contains(e.Message, `for volume "`+s.Volume+`"`) {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	f.Evidence = appendNonEmpty(f.Evidence, note, pendingLine(pod, c))
	if ch, ok := changeFor(ev.Changes, "volumes["+s.Volume+"]"); ok {
		f.Change = describeChange("volume "+s.Volume, ch)
	}
	f.Fix = volumeFixes(ev, s, p.Key, similar, f.Change != "")
	return f
}

// mountContainers names the containers of mounts once each: "container api".
func mountContainers(mounts []mountRef) []string {
	var out []string
	for _, m := range mounts {
		if !slices.Contains(out, m.label()) {
			out = append(out, m.label())
		}
	}
	return out
}

// pendingLine says what the pod is doing meanwhile: "pod web-x is Pending; container nginx is
// waiting in ContainerCreating".
func pendingLine(pod *corev1.Pod, c *containerCtx) string {
	if pod.Status.Phase != corev1.PodPending {
		return ""
	}
	s := "pod " + pod.Name + " is Pending"
	if w := c.st.State.Waiting; w != nil && w.Reason != "" {
		s += "; " + c.label() + " is waiting in " + w.Reason
	}
	return s
}

// volumeFixes: create what is missing (with the keys the items name), or point the volume at the
// right object or key, or let the pod start without it; then watch, or roll back.
func volumeFixes(ev *evidence, s volumeSource, key, similar string, changed bool) []string {
	var fix []string
	if key == "" {
		if s.Kind == kindSecret {
			fix = append(fix, command("kubectl", "get", "secrets", ev.ns()), ev.cmdCreateSecret(s.Name, s.itemKeys()))
		} else {
			fix = append(fix, command("kubectl", "get", "configmaps", ev.ns()), ev.cmdCreateConfigMap(s.Name, s.itemKeys()))
		}
		name, comment := "<name>", fmt.Sprintf("# or, if the name is wrong, point %s.%s.%s at the right %s:", s.field(), s.jsonField(), s.nameField(), s.Kind)
		if ch, ok := changeFor(ev.Changes, "volumes["+s.Volume+"]"); ok && s.Source < 0 {
			if prev, ok := strings.CutPrefix(ch.Before, s.jsonField()+" "); ok && prev != s.Name {
				name = prev
				// The field path is the gate's own text; the old name comes from the cluster: quoted.
				comment = note("or, if the name is wrong, point "+s.field()+"."+s.jsonField()+"."+s.nameField()+" back at %s, its name before this rollout:", prev)
			}
		}
		fix = append(fix, comment, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": s.pointer() + "/" + s.nameField(), "value": name}))
	} else {
		// The key names, never the values.
		fix = append(fix, ev.cmdListKeys(strings.ToLower(s.Kind), s.Name))
		if s.Kind == kindSecret {
			fix = append(fix, ev.cmdPatchSecretKey(s.Name, key))
		} else {
			fix = append(fix, ev.cmdPatchConfigMapKey(s.Name, key))
		}
		if i := s.item(key); i >= 0 && similar != "" {
			fix = append(fix, note("or point the item at the existing key %s:", similar),
				ev.cmdJSONPatch(map[string]any{"op": "replace", "path": s.pointer() + "/items/" + strconv.Itoa(i) + "/key", "value": similar}))
		}
	}
	if !s.Optional {
		what := "it"
		if key != "" {
			what = "that key (missing keys are then skipped)"
		}
		fix = append(fix, fmt.Sprintf("# or, if the app can start without %s, mark the %s optional:", what, s.jsonField()),
			ev.cmdJSONPatch(map[string]any{"op": "add", "path": s.pointer() + "/optional", "value": true}))
	}
	fix = append(fix, report.RetryMountLeadIn)
	fix = append(fix, ev.cmdStatus()...)
	if changed {
		fix = append(fix, ev.cmdUndo()...)
	}
	return fix
}

// missingStorageClass: a claim of the pod names a StorageClass that does not exist, so it never
// binds and the scheduler never places the pod ("pod has unbound immediate PersistentVolumeClaims":
// a class it cannot find counts as an Immediate one). Known from the StorageClasses listed, or,
// when they could not be, from the PV controller's ProvisioningFailed on the claim.
func missingStorageClass(ev *evidence, pod *corev1.Pod, msg string) (report.Finding, bool) {
	if !podstate.WaitsForClaims(msg) {
		return report.Finding{}, false
	}
	for _, cl := range podstate.Claims(pod) {
		info := ev.Claims[cl.Name]
		if info == nil || !info.Exists || info.Bound || info.Class == "" {
			continue
		}
		provisioning := ev.eventsOf("PersistentVolumeClaim", cl.Name, "ProvisioningFailed", `storageclass.storage.k8s.io "`+info.Class+`" not found`)
		missing := len(provisioning) > 0 // the PV controller's word, when the classes could not be listed
		if ev.ClassesErr == "" {
			missing = !slices.ContainsFunc(ev.Classes, func(sc storageClass) bool { return sc.Name == info.Class })
		}
		if !missing {
			continue
		}
		return storageClassFinding(ev, pod, cl, info, msg, provisioning), true
	}
	return report.Finding{}, false
}

// eventsOf returns the events of one object with the reason whose message contains text.
func (ev *evidence) eventsOf(kind, name, reason, text string) []corev1.Event {
	var out []corev1.Event
	for _, e := range ev.Events {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name && e.Reason == reason && strings.Contains(e.Message, text) {
			out = append(out, e)
		}
	}
	return out
}

func storageClassFinding(ev *evidence, pod *corev1.Pod, cl podstate.Claim, info *claimInfo, msg string, provisioning []corev1.Event) report.Finding {
	full := ev.Namespace + "/" + cl.Name
	f := report.Finding{Cause: report.CauseMissingStorageClass, Pod: pod.Name, Confidence: report.ConfidenceHigh}
	f.Summary = fmt.Sprintf("StorageClass %s does not exist, so PersistentVolumeClaim %s never binds and the pod cannot be scheduled", info.Class, full)
	template := claimTemplate(ev, pod, cl)
	where := fmt.Sprintf("volume %s (spec.volumes[%d]) uses PersistentVolumeClaim %s", cl.Volume, cl.Index, full)
	if template != "" {
		where = fmt.Sprintf("volume %s uses PersistentVolumeClaim %s, made from the StatefulSet's volumeClaimTemplates entry %s", cl.Volume, full, template)
	}
	f.Detail = where + ", whose spec.storageClassName is " + info.Class + ", which does not exist; " + classesSentence(ev)
	f.Evidence = append(f.Evidence, "PodScheduled=False Unschedulable: "+msg,
		fmt.Sprintf("PersistentVolumeClaim %s is Pending with storageClassName %s", full, info.Class))
	for i := range provisioning {
		f.Evidence = append(f.Evidence, eventLine(&provisioning[i]))
		break
	}
	if ev.ClassesErr != "" {
		f.Evidence = append(f.Evidence, "could not list StorageClasses: "+ev.ClassesErr)
	} else {
		f.Evidence = append(f.Evidence, "StorageClasses in the cluster: "+orStr(classNames(ev.Classes), "none"))
	}
	if ch, ok := changeFor(ev.Changes, "volumes["+cl.Volume+"]"); ok {
		f.Change = describeChange("volume "+cl.Volume, ch)
	}
	// A claim's storageClassName cannot be changed once it is created: the claim is made again.
	class := "<storage class>"
	if d := defaultClass(ev.Classes); d != "" {
		class = d
	}
	f.Fix = []string{command("kubectl", "get", "storageclass"),
		command("kubectl", "get", "pvc", cl.Name, "-o", "yaml", ev.ns())}
	if template != "" {
		f.Fix = append(f.Fix,
			note("a StatefulSet's volumeClaimTemplates cannot be changed in place: set storageClassName %s in the manifest's volumeClaimTemplates entry %s, then re-create the StatefulSet, keeping its pods, and the claim:", class, template),
			command("kubectl", "delete", "statefulset", ev.Name, "--cascade=orphan", ev.ns()),
			command("kubectl", "delete", "pvc", cl.Name, ev.ns()),
			note("then apply the fixed manifest"))
	} else {
		f.Fix = append(f.Fix,
			note("a claim's storageClassName cannot be changed: delete the claim and apply it again with storageClassName %s (or create StorageClass %s):", class, info.Class),
			command("kubectl", "delete", "pvc", cl.Name, ev.ns()),
			note("then apply the fixed PersistentVolumeClaim manifest"))
	}
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	return f
}

// claimTemplate names the volumeClaimTemplates entry a StatefulSet pod's claim was made from
// (<template>-<statefulset>-<ordinal>), or "".
func claimTemplate(ev *evidence, pod *corev1.Pod, cl podstate.Claim) string {
	if ev.Kind != "StatefulSet" || cl.Name != cl.Volume+"-"+pod.Name {
		return ""
	}
	return cl.Volume
}

// classesSentence says which StorageClasses exist and which is the default.
func classesSentence(ev *evidence) string {
	switch {
	case ev.ClassesErr != "":
		return "the gate could not list the StorageClasses (" + ev.ClassesErr + "); the PV controller says it does not exist"
	case len(ev.Classes) == 0:
		return "the cluster has no StorageClass at all"
	}
	s := "the cluster has " + report.Plural(len(ev.Classes), "StorageClass ", "StorageClasses ") + classNames(ev.Classes)
	if defaultClass(ev.Classes) == "" {
		s += ", none of them the default"
	}
	return s
}

// classNames lists the classes, the default one marked: "premium-rwo, standard (default)".
func classNames(classes []storageClass) string {
	names := make([]string, 0, len(classes))
	for _, sc := range classes {
		if sc.Default {
			names = append(names, sc.Name+" (default)")
		} else {
			names = append(names, sc.Name)
		}
	}
	return strings.Join(names, ", ")
}

func defaultClass(classes []storageClass) string {
	for _, sc := range classes {
		if sc.Default {
			return sc.Name
		}
	}
	return ""
}
