package diagnose

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

func parseQuantity(s string) (resource.Quantity, error) { return resource.ParseQuantity(s) }

// pullProblem sorts an image pull error into what the user must do about it.
func pullProblem(reason, msg string) (kind, meaning string) {
	m := strings.ToLower(msg)
	switch {
	case reason == podstate.ReasonErrImageNeverPull:
		return "not on the node", "imagePullPolicy is Never and the image is not present on the node"
	case reason == podstate.ReasonInvalidImageName || strings.Contains(m, "invalid reference format") || strings.Contains(m, "couldn't parse image"):
		return "invalid name", "the image reference is not a valid name"
	case reason == podstate.ReasonSignatureValidationFailed:
		return "signature", "the image signature did not validate"
	case strings.Contains(m, "toomanyrequests") || strings.Contains(m, "rate limit"):
		return "rate limited", "the registry is rate-limiting pulls"
	case strings.Contains(m, "unauthorized") || strings.Contains(m, "authentication required") || strings.Contains(m, "401") ||
		strings.Contains(m, "403 forbidden") || strings.Contains(m, "access denied") && !strings.Contains(m, "does not exist") || strings.Contains(m, "authorization failed"):
		return "unauthorized", "the registry refused the node's credentials (missing or wrong imagePullSecrets)"
	case strings.Contains(m, "not found") || strings.Contains(m, "manifest unknown") || strings.Contains(m, "does not exist") || strings.Contains(m, "name unknown"):
		return "not found", "the registry has no such image or tag"
	case strings.Contains(m, "no such host") || strings.Contains(m, "i/o timeout") || strings.Contains(m, "connection refused") ||
		strings.Contains(m, "tls handshake timeout") || strings.Contains(m, "network is unreachable") || strings.Contains(m, "dial tcp"):
		return "registry unreachable", "the node cannot reach the registry"
	}
	return "", "the image could not be pulled"
}

// registryOf returns the registry host of an image reference (docker.io when none is named).
func registryOf(image string) string {
	first, _, found := strings.Cut(image, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}

// registryHost drops the port of a registry (nslookup takes a name only).
func registryHost(reg string) string {
	if h, _, err := net.SplitHostPort(reg); err == nil {
		return h
	}
	return reg
}

// imagePull: ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName and kin.
func imagePull(c *containerCtx, w *corev1.ContainerStateWaiting) report.Finding {
	ev := c.ev
	f := c.base(report.CauseImagePull, report.ConfidenceHigh)
	image := c.image()
	msg := w.Message
	// ImagePullBackOff only says "Back-off pulling image"; the Failed event carries the registry's answer.
	for _, e := range c.events {
		if e.Reason == podstate.EventFailed && strings.Contains(e.Message, "Failed to pull image") {
			msg = e.Message
		}
	}
	kind, meaning := pullProblem(w.Reason, msg)
	if kind == "" {
		f.Confidence = report.ConfidenceMedium
		f.Summary = fmt.Sprintf("image %s of %s cannot be pulled (%s)", image, c.label(), w.Reason)
	} else {
		f.Summary = fmt.Sprintf("image %s of %s cannot be pulled: %s", image, c.label(), kind)
	}
	f.Detail = meaning
	if msg != "" {
		f.Detail += ": " + firstLine(msg, 400)
	}
	f.Evidence = appendNonEmpty(f.Evidence, w.Reason+": "+firstLine(w.Message, 300))
	for _, e := range c.events {
		if e.Type == corev1.EventTypeWarning && (e.Reason == podstate.EventFailed || e.Reason == "BackOff" || e.Reason == "InspectFailed" || e.Reason == podstate.ReasonErrImageNeverPull) {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	prev := ""
	if ch, ok := changeFor(ev.Changes, c.path()+".image"); ok {
		f.Change = describeChange("image of "+c.label(), ch)
		prev = ch.Before
	}
	reg := registryOf(image)
	f.Fix = []string{ev.cmdDescribePod(c.pod.Name)}
	switch kind {
	case "not found", "invalid name":
		if prev != "" {
			f.Fix = append(f.Fix, note("push the image, correct the tag, or go back to the previous image:"), ev.cmdSetImage(c.st.Name, prev))
		} else {
			f.Fix = append(f.Fix, ev.cmdSetImage(c.st.Name, "<image that exists>"))
		}
	case "unauthorized":
		for _, ps := range c.pod.Spec.ImagePullSecrets {
			if info := ev.Secrets[ps.Name]; info != nil && info.Err == "" && !info.Exists {
				f.Detail += fmt.Sprintf("; imagePullSecrets names Secret %s/%s, which does not exist", ev.Namespace, ps.Name)
			}
		}
		if len(c.pod.Spec.ImagePullSecrets) == 0 {
			f.Detail += "; the pod has no imagePullSecrets"
		}
		f.Fix = append(f.Fix,
			command("kubectl", "create", "secret", "docker-registry", "regcred", "--docker-server="+reg, "--docker-username=<user>", "--docker-password=<password>", ev.ns()),
			ev.cmdPatch(`{"spec":{"template":{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}}}`))
	case "registry unreachable":
		f.Fix = append(f.Fix, note("check DNS and egress from node %s to %s", orStr(c.pod.Spec.NodeName, "<node>"), reg),
			command("kubectl", "debug", "node/"+orStr(c.pod.Spec.NodeName, "<node>"), "-it", "--image=busybox:1.36", "--", "nslookup", hostOr(registryHost(reg), "<registry host>")))
	case "rate limited":
		f.Fix = append(f.Fix, note("authenticate pulls (imagePullSecrets) or use a registry mirror; pulls resume when the limit resets"))
	case "not on the node":
		f.Fix = append(f.Fix, note("load %s onto node %s, or let the kubelet pull it:", image, orStr(c.pod.Spec.NodeName, "<node>")),
			ev.cmdJSONPatch(map[string]any{"op": "replace", "path": ev.containerPath(c.st.Name, c.init) + "/imagePullPolicy", "value": "IfNotPresent"}))
	}
	f.Fix = append(f.Fix, ev.cmdUndo()...)
	return f
}

var (
	reInsufficient = regexp.MustCompile(`Insufficient ([A-Za-z0-9./\-]+)`)
	reTaint        = regexp.MustCompile(`taints?(?:\(s\))? \{([^}]*)\}`)
)

// pressureTaints are what the node lifecycle controller sets for node conditions.
var pressureTaints = map[string]string{
	"node.kubernetes.io/memory-pressure": "MemoryPressure",
	"node.kubernetes.io/disk-pressure":   "DiskPressure",
	"node.kubernetes.io/pid-pressure":    "PIDPressure",
}

// unschedulable: the scheduler finds no node for the pod.
func unschedulable(ev *evidence, pod *corev1.Pod, cond *corev1.PodCondition) report.Finding {
	msg := cond.Message
	for taint, condition := range pressureTaints {
		if strings.Contains(msg, taint) {
			return pressureFinding(ev, pod, condition, "the scheduler will not place the pod on a node under "+condition+": "+msg)
		}
	}
	// Since v1.34 the scheduler says "untolerated taint(s)" without naming them: the nodes tell.
	if strings.Contains(msg, "untolerated taint") {
		if condition, detail, ok := pressureOnEveryCandidate(ev, pod); ok {
			return pressureFinding(ev, pod, condition, detail+"; the scheduler says: "+schedulerSummary(msg))
		}
	}
	if f, ok := missingStorageClass(ev, pod, msg); ok {
		return f
	}
	f := report.Finding{Cause: report.CauseUnschedulable, Pod: pod.Name, Confidence: report.ConfidenceHigh}
	if cond.Reason == corev1.PodReasonSchedulingGated {
		f.Summary = "the pod is held back by scheduling gates"
		f.Detail = "spec.schedulingGates must be removed by whatever added them: " + msg
		f.Evidence = []string{"PodScheduled=False SchedulingGated: " + msg}
		f.Fix = []string{ev.cmdDescribePod(pod.Name)}
		return f
	}
	f.Summary = "no node can run the pod: " + firstLine(schedulerSummary(msg), 200)
	f.Evidence = []string{"PodScheduled=False Unschedulable: " + msg}
	for _, e := range ev.podEvents(pod.Name, "") {
		if e.Reason == podstate.EventFailedScheduling {
			f.Evidence = append(f.Evidence, eventLine(&e))
			break
		}
	}
	var details []string
	f.Fix = []string{ev.cmdDescribePod(pod.Name), command("kubectl", "get", "nodes", "-o", "custom-columns=NAME:.metadata.name,TAINTS:.spec.taints[*].key,CPU:.status.allocatable.cpu,MEMORY:.status.allocatable.memory")}
	if ms := reInsufficient.FindAllStringSubmatch(msg, -1); len(ms) > 0 {
		var res []string
		for _, m := range ms {
			r := strings.TrimRight(m[1], ".")
			if !slices.Contains(res, r) {
				res = append(res, r)
			}
		}
		details = append(details, fmt.Sprintf("not enough allocatable %s on any node for the pod's requests (%s)", strings.Join(res, ", "), podRequests(pod)))
		for _, c := range pod.Spec.Containers {
			for _, r := range res {
				if ch, ok := changeFor(ev.Changes, "containers["+c.Name+"].resources.requests."+r); ok && f.Change == "" {
					f.Change = describeChange(r+" request of container "+c.Name, ch)
				}
			}
		}
		flags := make([]string, 0, len(res))
		for _, r := range res {
			flags = append(flags, r+"=<lower>")
		}
		if len(pod.Spec.Containers) > 0 {
			f.Fix = append(f.Fix, note("lower the requests, or add nodes with room:"), ev.cmdSetResources(pod.Spec.Containers[0].Name, "--requests="+strings.Join(flags, ",")))
		}
	}
	if ms := reTaint.FindAllStringSubmatch(msg, -1); len(ms) > 0 {
		var taints []string
		for _, m := range ms {
			taints = append(taints, strings.TrimSpace(m[1]))
		}
		details = append(details, fmt.Sprintf("nodes carry taints the pod does not tolerate (%s); pod tolerations: %s", strings.Join(taints, "; "), orStr(podtemplate.Tolerations(pod.Spec.Tolerations), "none")))
		f.Fix = append(f.Fix, note("add a toleration to the pod template, or remove the taint: kubectl taint nodes <node> <key>:<effect>-"))
		if ch, ok := changeFor(ev.Changes, "tolerations"); ok && f.Change == "" {
			f.Change = describeChange("tolerations", ch)
		}
	}
	if strings.Contains(msg, "node affinity/selector") || strings.Contains(msg, "node selector") {
		details = append(details, fmt.Sprintf("no node matches the pod's nodeSelector (%s) or node affinity", orStr(podtemplate.NodeSelector(pod.Spec.NodeSelector), "none")))
		f.Fix = append(f.Fix, command("kubectl", "get", "nodes", "--show-labels"))
		if ch, ok := changeFor(ev.Changes, "nodeSelector"); ok && f.Change == "" {
			f.Change = describeChange("nodeSelector", ch)
		}
	}
	if strings.Contains(msg, "unbound immediate PersistentVolumeClaims") || strings.Contains(msg, "persistentvolumeclaim") {
		details = append(details, "a PersistentVolumeClaim of the pod is not bound")
		f.Fix = append(f.Fix, command("kubectl", "get", "pvc", ev.ns()))
	}
	if strings.Contains(msg, "free ports") {
		details = append(details, "a hostPort the pod asks for is taken on every node")
	}
	if strings.Contains(msg, "were unschedulable") {
		details = append(details, "nodes are cordoned (kubectl uncordon <node>)")
	}
	if strings.Contains(msg, "anti-affinity") || strings.Contains(msg, "topology spread") {
		details = append(details, "pod anti-affinity or topology spread constraints leave no node")
	}
	f.Detail = strings.Join(details, "; ")
	if f.Detail == "" {
		f.Detail = "the scheduler's message: " + msg
	}
	if f.Change != "" {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

// schedulerSummary is the scheduler's message without the preemption verdict and the v1.34
// dynamic-resource note that follow the reasons.
func schedulerSummary(msg string) string {
	short, _, _ := strings.Cut(msg, " preemption:")
	short = strings.Replace(short, " no new claims to deallocate,", "", 1)
	return strings.TrimSpace(short)
}

// pressureOnEveryCandidate reports whether every node the pod may run on (by its nodeSelector)
// carries a pressure taint the pod does not tolerate. It needs the full node list, and does not
// judge pods with required node affinity: another node may then be the one that matters.
func pressureOnEveryCandidate(ev *evidence, pod *corev1.Pod) (condition, detail string, ok bool) {
	if !ev.AllNodes || pod.Spec.Affinity != nil && pod.Spec.Affinity.NodeAffinity != nil &&
		pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		return "", "", false
	}
	var conds, lines []string
	for _, name := range sortedKeys(ev.Nodes) {
		n := ev.Nodes[name]
		if !labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(n.Labels)) {
			continue
		}
		var found *corev1.Taint
		for i := range n.Spec.Taints {
			t := &n.Spec.Taints[i]
			if _, pressure := pressureTaints[t.Key]; !pressure || t.Effect == corev1.TaintEffectPreferNoSchedule {
				continue
			}
			if !slices.ContainsFunc(pod.Spec.Tolerations, func(tol corev1.Toleration) bool { return tol.ToleratesTaint(logr.Discard(), t, false) }) {
				found = t
				break
			}
		}
		if found == nil {
			return "", "", false // this node is kept off by something else
		}
		if c := pressureTaints[found.Key]; !slices.Contains(conds, c) {
			conds = append(conds, c)
		}
		lines = append(lines, fmt.Sprintf("node %s carries taint %s:%s", name, found.Key, found.Effect))
	}
	if len(lines) == 0 {
		return "", "", false
	}
	what := "the only node the pod may run on"
	if len(lines) > 1 {
		what = "every node the pod may run on"
	}
	if len(pod.Spec.NodeSelector) > 0 {
		what += " (nodeSelector " + podtemplate.NodeSelector(pod.Spec.NodeSelector) + ")"
	}
	return strings.Join(conds, ", "), fmt.Sprintf("%s is under pressure and the pod does not tolerate it: %s", what, strings.Join(lines, "; ")), true
}

// podRequests renders the sum of the containers' CPU and memory requests.
func podRequests(pod *corev1.Pod) string {
	cpu, mem := resource.Quantity{}, resource.Quantity{}
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			cpu.Add(q)
		}
		if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
			mem.Add(q)
		}
	}
	return fmt.Sprintf("cpu %s, memory %s", cpu.String(), mem.String())
}

// nodePressures lists a node's pressure conditions and pressure taints.
func nodePressures(n *corev1.Node) []string {
	var out []string
	for _, c := range n.Status.Conditions {
		switch c.Type {
		case corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure:
			if c.Status == corev1.ConditionTrue {
				out = append(out, string(c.Type)+"=True")
			}
		}
	}
	for _, t := range n.Spec.Taints {
		if cond, ok := pressureTaints[t.Key]; ok && !slices.Contains(out, cond+"=True") {
			out = append(out, "taint "+t.Key+":"+string(t.Effect))
		}
	}
	return out
}

// evicted: the kubelet evicted the pod because its node ran short of a resource.
func evicted(ev *evidence, pod *corev1.Pod) report.Finding {
	cond := "resource pressure"
	m := strings.ToLower(pod.Status.Message)
	switch {
	case strings.Contains(m, "memory"):
		cond = "MemoryPressure"
	case strings.Contains(m, "ephemeral-storage") || strings.Contains(m, "disk") || strings.Contains(m, "nodefs") || strings.Contains(m, "imagefs"):
		cond = "DiskPressure"
	case strings.Contains(m, "pids"):
		cond = "PIDPressure"
	}
	return pressureFinding(ev, pod, cond, "the pod was evicted: "+pod.Status.Message)
}

// nodePressure: the pod's node is under pressure and nothing more specific explains the failure.
func nodePressure(ev *evidence, pod *corev1.Pod) (report.Finding, bool) {
	n := ev.Nodes[pod.Spec.NodeName]
	if n == nil {
		return report.Finding{}, false
	}
	p := nodePressures(n)
	if len(p) == 0 {
		return report.Finding{}, false
	}
	return pressureFinding(ev, pod, strings.Join(p, ", "), ""), true
}

func pressureFinding(ev *evidence, pod *corev1.Pod, condition, detail string) report.Finding {
	node := pod.Spec.NodeName
	f := report.Finding{Cause: report.CauseNodePressure, Pod: pod.Name, Confidence: report.ConfidenceHigh}
	if node != "" {
		f.Summary = fmt.Sprintf("node %s is under %s, which affects pods on it, not just this workload", node, condition)
	} else {
		f.Summary = fmt.Sprintf("nodes are under %s, so the pod cannot run", condition)
	}
	f.Detail = detail
	if f.Detail == "" {
		f.Detail = "the node reports " + condition + "; the kubelet evicts pods and the scheduler avoids the node until it recovers"
	}
	if n := ev.Nodes[node]; n != nil {
		for _, c := range n.Status.Conditions {
			if c.Status == corev1.ConditionTrue && c.Type != corev1.NodeReady {
				f.Evidence = append(f.Evidence, fmt.Sprintf("node %s condition %s=True: %s", node, c.Type, c.Message))
			}
		}
		for _, t := range n.Spec.Taints {
			f.Evidence = append(f.Evidence, fmt.Sprintf("node %s taint %s:%s", node, t.Key, t.Effect))
		}
	}
	var pressured []string
	if node == "" {
		for _, name := range sortedKeys(ev.Nodes) {
			if p := nodePressures(ev.Nodes[name]); len(p) > 0 {
				pressured = append(pressured, name)
				f.Evidence = append(f.Evidence, fmt.Sprintf("node %s reports %s", name, strings.Join(p, ", ")))
			}
		}
	}
	if pod.Status.Reason == podstate.ReasonEvicted {
		f.Evidence = append(f.Evidence, "pod status Evicted: "+pod.Status.Message)
	}
	if c := podstate.Condition(pod, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse {
		f.Evidence = append(f.Evidence, "PodScheduled=False: "+c.Message)
	}
	for _, e := range ev.podEvents(pod.Name, "") {
		if e.Reason == podstate.ReasonEvicted || e.Reason == podstate.EventFailedScheduling || e.Reason == "EvictionThresholdMet" {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	if node != "" {
		f.Fix = []string{
			command("kubectl", "describe", "node", node),
			command("kubectl", "get", "pods", "-A", "--field-selector", "spec.nodeName="+node),
		}
	} else if len(pressured) > 0 {
		f.Fix = []string{command("kubectl", "describe", "node", pressured[0])}
	} else {
		f.Fix = []string{command("kubectl", "describe", "nodes")}
	}
	switch {
	case strings.Contains(condition, "Memory"):
		f.Fix = append(f.Fix, note("free memory on the node, or set memory requests that match real use so the scheduler places pods where they fit"))
	case strings.Contains(condition, "Disk"):
		f.Fix = append(f.Fix, note("free disk on the node (images, logs, emptyDir volumes); the kubelet lifts the taint once it recovers"))
	case strings.Contains(condition, "PID"):
		f.Fix = append(f.Fix, note("find the pods forking processes on the node; set pod pid limits"))
	}
	return f
}

var (
	reQuota   = regexp.MustCompile(`exceeded quota: ([^,]+)(?:, (requested: .*))?`)
	reFailedQ = regexp.MustCompile(`failed quota: ([^:]+): (.*)`)
	reWebhook = regexp.MustCompile(`admission webhook "([^"]+)" denied the request:? ?(.*)`)
	rePodSec  = regexp.MustCompile(`violates PodSecurity "([^"]+)": (.*)`)
	reSA      = regexp.MustCompile(`serviceaccount "([^"]+)" not found`)
	reLimitR  = regexp.MustCompile(`(?:maximum|minimum) (?:cpu|memory|ephemeral-storage) usage per (?:Container|Pod) is`)
)

// denials are what says the controller cannot create pods: ReplicaFailure on the Deployment,
// FailedCreate events on the owner; owner is the object the last event names.
type denials struct {
	msgs, lines []string
	owner       string
}

func denialsOf(ev *evidence) denials {
	var d denials
	for _, c := range ev.Conditions {
		if c.Type == string(appsv1.DeploymentReplicaFailure) && c.Status == string(corev1.ConditionTrue) {
			d.msgs = append(d.msgs, c.Message)
			d.lines = append(d.lines, fmt.Sprintf("Deployment condition ReplicaFailure=True %s: %s", c.Reason, c.Message))
		}
	}
	for _, e := range ev.Events {
		if e.Reason == "FailedCreate" && e.InvolvedObject.Kind != "Pod" {
			d.msgs = append(d.msgs, e.Message)
			d.lines = append(d.lines, eventLine(&e))
			d.owner = eventObject(&e)
		}
	}
	return d
}

// createDenied: the controller cannot create pods at all (quota, admission webhook, PodSecurity,
// missing service account). The rule matches only when denialsOf finds a message.
func createDenied(ev *evidence) report.Finding {
	d := denialsOf(ev)
	msg := d.msgs[len(d.msgs)-1]
	for _, m := range d.msgs { // the events carry the full text; prefer one that names the denial
		if strings.Contains(m, "forbidden") || strings.Contains(m, "denied") {
			msg = m
		}
	}
	f := report.Finding{Cause: report.CauseCreateDenied, Confidence: report.ConfidenceHigh}
	owner := d.owner
	if owner == "" {
		owner = orStr(ev.workloadRef(), "the controller")
	}
	f.Evidence = slices.Compact(d.lines)
	f.Fix = []string{}
	if owner != "" && strings.Contains(owner, "/") {
		f.Fix = append(f.Fix, command("kubectl", "describe", owner, ev.ns()))
	}
	switch {
	case reQuota.MatchString(msg):
		m := reQuota.FindStringSubmatch(msg)
		f.Summary = fmt.Sprintf("%s cannot create pods: ResourceQuota %s is exhausted", owner, m[1])
		f.Detail = "the namespace quota would be exceeded: " + strings.TrimSpace(m[2])
		f.Fix = append(f.Fix, command("kubectl", "describe", "resourcequota", nameOr(m[1], "<quota>"), ev.ns()),
			note("lower the requests/limits of the pod template, scale down something else, or raise the quota"))
	case reFailedQ.MatchString(msg):
		m := reFailedQ.FindStringSubmatch(msg)
		f.Summary = fmt.Sprintf("%s cannot create pods: ResourceQuota %s requires requests and limits the pod template does not set", owner, m[1])
		f.Detail = m[2]
		if spec := ev.podSpec(); spec != nil && len(spec.Containers) > 0 {
			f.Fix = append(f.Fix, ev.cmdSetResources(spec.Containers[0].Name, "--requests=cpu=<cpu>,memory=<memory>", "--limits=cpu=<cpu>,memory=<memory>"))
		}
	case reWebhook.MatchString(msg):
		m := reWebhook.FindStringSubmatch(msg)
		f.Summary = fmt.Sprintf("%s cannot create pods: admission webhook %s denies them", owner, m[1])
		f.Detail = "the webhook says: " + m[2]
		f.Fix = append(f.Fix, command("kubectl", "get", "validatingwebhookconfigurations,mutatingwebhookconfigurations"),
			note("change the pod template to satisfy the policy the webhook enforces"))
	case rePodSec.MatchString(msg):
		m := rePodSec.FindStringSubmatch(msg)
		f.Summary = fmt.Sprintf("%s cannot create pods: they violate PodSecurity %s", owner, m[1])
		f.Detail = "set these in the pod template's securityContext: " + m[2]
		f.Fix = append(f.Fix, command("kubectl", "get", "namespace", ev.Namespace, "--show-labels"))
	case reSA.MatchString(msg):
		m := reSA.FindStringSubmatch(msg)
		f.Summary = fmt.Sprintf("%s cannot create pods: service account %s does not exist", owner, m[1])
		f.Detail = fmt.Sprintf("serviceAccountName %s of the pod template names no ServiceAccount in namespace %s", m[1], ev.Namespace)
		f.Fix = append(f.Fix, command("kubectl", "create", "serviceaccount", nameOr(m[1], "<service account>"), ev.ns()))
		if ch, ok := changeFor(ev.Changes, "serviceAccountName"); ok {
			f.Change = describeChange("serviceAccountName", ch)
		}
	case reLimitR.MatchString(msg):
		f.Summary = fmt.Sprintf("%s cannot create pods: a LimitRange rejects their resources", owner)
		f.Detail = msg
		f.Fix = append(f.Fix, command("kubectl", "describe", "limitrange", ev.ns()))
	default:
		f.Summary = fmt.Sprintf("%s cannot create pods", owner)
		f.Detail = msg
		f.Confidence = report.ConfidenceMedium
	}
	f.Fix = append(f.Fix, ev.cmdUndo()...)
	return f
}

// unknownWorkload: the rollout failed and no pod explains it; say so, with what is known.
func unknownWorkload(ev *evidence) report.Finding {
	f := report.Finding{Cause: report.CauseUnknown, Confidence: report.ConfidenceLow}
	what := orStr(ev.workloadRef(), "the workload")
	verb := "failed"
	if ev.Verdict == report.VerdictTimeout {
		verb = "did not finish in time"
	}
	f.Summary = fmt.Sprintf("%s %s (%s) and no pod evidence names a cause", what, verb, orStr(ev.Reason, "unknown reason"))
	if ev.Message != "" {
		f.Detail = ev.Message
	}
	if len(ev.Pods) == 0 {
		f.Evidence = append(f.Evidence, "no pods of the new revision exist")
	} else {
		for _, p := range ev.Pods {
			f.Evidence = append(f.Evidence, fmt.Sprintf("pod %s: %s", p.Name, podProblem(&p)))
		}
	}
	for _, c := range ev.Conditions {
		f.Evidence = append(f.Evidence, fmt.Sprintf("Deployment condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	for _, e := range ev.Events {
		if e.Type == corev1.EventTypeWarning {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	if len(f.Evidence) > 20 {
		f.Evidence = f.Evidence[:20]
	}
	if ref := ev.workloadRef(); ref != "" {
		f.Fix = []string{command("kubectl", "describe", ref, ev.ns()), command("kubectl", "get", "events", ev.ns(), "--sort-by=.lastTimestamp")}
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
