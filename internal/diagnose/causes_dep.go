package diagnose

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Where a dialled host lives.
const (
	hostService  = "service"  // a Service name (or its ClusterIP)
	hostExternal = "external" // a name or address outside the cluster's Services
	hostLocal    = "local"    // localhost: something in the same pod
)

// externalTLDs mark two-label names that are domains, not service.namespace.
var externalTLDs = map[string]bool{"com": true, "net": true, "org": true, "io": true, "dev": true, "app": true,
	"cloud": true, "internal": true, "local": true, "co": true, "ai": true, "us": true, "eu": true, "uk": true, "de": true}

// resolveHost maps a dialled host to a Service: "postgres" (the pod's namespace), "postgres.ns",
// "postgres.ns.svc" and "postgres.ns.svc.<cluster domain>". IP addresses are resolved by the
// gatherer against Service ClusterIPs (hostIPs).
func resolveHost(host, podNS string, hostIPs map[string]string) (where, ns, name string) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" || h == "0.0.0.0" {
		return hostLocal, "", ""
	}
	if logparse.IsIP(h) {
		if key, ok := hostIPs[h]; ok {
			ns, name, _ = strings.Cut(key, "/")
			return hostService, ns, name
		}
		return hostExternal, "", ""
	}
	parts := strings.Split(h, ".")
	switch {
	case len(parts) == 1:
		return hostService, podNS, parts[0]
	case len(parts) == 2 && !externalTLDs[parts[1]]:
		return hostService, parts[1], parts[0]
	case len(parts) >= 3 && parts[2] == "svc":
		return hostService, parts[1], parts[0]
	}
	return hostExternal, "", ""
}

// serviceKey is how evidence.Services is keyed.
func serviceKey(ns, name string) string { return ns + "/" + name }

// dependency: the app cannot reach a service it needs (runbook root cause 4).
func dependency(c *containerCtx, ds []logparse.DialError) report.Finding {
	ev := c.ev
	d := ds[0]
	for _, x := range ds { // prefer a named host over a bare address
		if !logparse.IsIP(x.Host) {
			d = x
			break
		}
	}
	f := c.base(report.CauseDependency, report.ConfidenceMedium)
	f.Summary = fmt.Sprintf("%s cannot reach its dependency %s (%s)", c.label(), hostPortOf(d), d.Kind) + dependencyClause(c, d)
	where, ns, name := resolveHost(d.Host, ev.Namespace, ev.hostIPs())
	info := ev.Services[serviceKey(ns, name)]
	if where == hostService && info != nil && info.Err == "" {
		ready, _ := info.readyEndpoints()
		if !info.Exists || ready == 0 || len(failingPods(info.Pods)) > 0 {
			f.Confidence = report.ConfidenceHigh
		}
	}
	// Which env var names the host, and whether this rollout changed it.
	varName, varChanged := "", false
	if c.spec != nil {
		for _, e := range c.spec.Env {
			if e.ValueFrom == nil && e.Value != "" && strings.Contains(e.Value, d.Host) {
				varName = e.Name
				f.Detail = fmt.Sprintf("env %s of %s is %q", e.Name, c.label(), e.Value)
				if ch, ok := changeFor(ev.Changes, c.path()+".env["+e.Name+"]"); ok {
					f.Change = describeChange(e.Name, ch)
					varChanged = true
				}
				break
			}
		}
	}
	if f.Detail == "" {
		f.Detail = fmt.Sprintf("the host %s is named in the log of %s", d.Host, c.label())
	}
	f.Detail += "; " + dialMeaning(d.Kind)
	for _, x := range ds {
		if x.HostLine >= 0 && x.HostLine < x.Line {
			f.Evidence = appendNonEmpty(f.Evidence, c.logLine(x.HostLine))
		}
		f.Evidence = appendNonEmpty(f.Evidence, c.logLine(x.Line))
		if x.HostLine > x.Line {
			f.Evidence = appendNonEmpty(f.Evidence, c.logLine(x.HostLine))
		}
	}
	f.Evidence = slices.Compact(f.Evidence)
	f.Evidence = append(f.Evidence, c.serviceEvidence(d)...)
	f.Evidence = appendNonEmpty(f.Evidence, c.exitLine(), c.restartLine())

	f.Fix = []string{c.cmdLogs()}
	switch {
	case where == hostLocal:
		f.Fix = append(f.Fix, note("the app dials localhost: the dependency must run in the same pod (a sidecar) or the host is misconfigured"))
	case where == hostExternal:
		f.Fix = append(f.Fix, cmdRunDebug(ev.Namespace, "nc", "-zv", "-w", "3", d.Host, orStr(d.Port, "<port>")))
	case info == nil || info.Err != "":
		f.Fix = append(f.Fix, command("kubectl", "get", "service", name, nsArgs(ns)))
	case !info.Exists:
		f.Fix = append(f.Fix, command("kubectl", "get", "services", nsArgs(ns)), note("create the Service %s in namespace %s, or fix the host the app dials", name, ns))
	default:
		if bad := failingPods(info.Pods); len(bad) > 0 {
			f.Fix = append(f.Fix, note("fix the dependency first:"),
				command("kubectl", "logs", bad[0].Name, "--previous", nsArgs(ns)),
				command("kubectl", "describe", "pod", bad[0].Name, nsArgs(ns)))
		} else if ready, _ := info.readyEndpoints(); ready == 0 {
			f.Fix = append(f.Fix, command("kubectl", "get", "pods", nsArgs(ns), "-l", labels.SelectorFromSet(info.Service.Spec.Selector).String()),
				command("kubectl", "get", "endpointslices", nsArgs(ns), "-l", "kubernetes.io/service-name="+name))
		} else {
			host := name + "." + ns + ".svc.cluster.local"
			f.Fix = append(f.Fix, cmdRunDebug(ev.Namespace, "nslookup", host),
				cmdRunDebug(ev.Namespace, "nc", "-zv", "-w", "3", host, orStr(d.Port, "<port>")),
				command("kubectl", "get", "networkpolicies", ev.ns()))
		}
	}
	// Point the app elsewhere only when the name it dials is the problem.
	if varName != "" && (varChanged || where == hostService && info != nil && info.Err == "" && !info.Exists) {
		val := "<host>"
		if ch, ok := changeFor(ev.Changes, c.path()+".env["+varName+"]"); ok && strings.HasPrefix(ch.Before, `"`) {
			val = strings.Trim(ch.Before, `"`)
		}
		f.Fix = append(f.Fix, ev.cmdSetEnv(c.st.Name, varName, val))
	}
	f.Fix = append(f.Fix, note("prevent the start-up race: an init container that waits until nc -z %s %s succeeds", d.Host, orStr(d.Port, "<port>")))
	if f.Change != "" {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dialMeaning(kind string) string {
	switch kind {
	case "connection refused":
		return "connection refused means the address answered but nothing listens on that port (no ready backend, or the wrong port)"
	case "no such host":
		return "no such host means the name does not resolve: no Service of that name in that namespace, a typo, or DNS is down"
	case "i/o timeout":
		return "a timeout means nothing answered: a NetworkPolicy or firewall drops the traffic, or the backend hangs"
	}
	return kind + " means the network path to the dependency is broken"
}

func (ev *evidence) hostIPs() map[string]string {
	m := map[string]string{}
	for key, s := range ev.Services {
		if s.Service != nil {
			for _, ip := range s.Service.Spec.ClusterIPs {
				m[ip] = key
			}
			if ip := s.Service.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
				m[ip] = key
			}
		}
	}
	return m
}

// dependencyClause says in a few words why the dependency is unreachable, for the summary.
func dependencyClause(c *containerCtx, d logparse.DialError) string {
	where, ns, name := resolveHost(d.Host, c.ev.Namespace, c.ev.hostIPs())
	switch where {
	case hostLocal:
		return ": nothing listens on it inside the pod"
	case hostExternal:
		return ": it is outside the cluster's Services"
	}
	info := c.ev.Services[serviceKey(ns, name)]
	switch {
	case info == nil || info.Err != "":
		return ""
	case !info.Exists:
		return fmt.Sprintf(": there is no Service %s in namespace %s", name, ns)
	}
	if bad := failingPods(info.Pods); len(bad) > 0 {
		return fmt.Sprintf(": its pod %s is failing (%s)", bad[0].Name, podProblem(&bad[0]))
	}
	ready, _ := info.readyEndpoints()
	if ready == 0 {
		return fmt.Sprintf(": Service %s/%s has no ready endpoints", ns, name)
	}
	return fmt.Sprintf(": Service %s/%s has %d ready %s, so check the port and NetworkPolicies", ns, name, ready, report.Plural(ready, "endpoint", "endpoints"))
}

// serviceEvidence lists what is known about the dependency behind d.
func (c *containerCtx) serviceEvidence(d logparse.DialError) []string {
	ev := c.ev
	where, ns, name := resolveHost(d.Host, ev.Namespace, ev.hostIPs())
	switch where {
	case hostLocal:
		return []string{fmt.Sprintf("%s is local to the pod: no other container in it listens there", hostPortOf(d))}
	case hostExternal:
		if logparse.IsIP(d.Host) {
			return []string{fmt.Sprintf("%s is not the ClusterIP of any Service in namespace %s", d.Host, ev.Namespace)}
		}
		return []string{fmt.Sprintf("%s is not a Service name of this cluster (external host)", d.Host)}
	}
	info := ev.Services[serviceKey(ns, name)]
	var out []string
	switch {
	case info == nil:
		return nil
	case info.Err != "":
		return []string{fmt.Sprintf("could not check Service %s/%s: %s", ns, name, info.Err)}
	case !info.Exists:
		out = append(out, fmt.Sprintf("no Service %s in namespace %s", name, ns))
	default:
		svc := info.Service
		var ports []string
		portOK := d.Port == ""
		for _, p := range svc.Spec.Ports {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, orStr(string(p.Protocol), "TCP")))
			if fmt.Sprint(p.Port) == d.Port {
				portOK = true
			}
		}
		line := fmt.Sprintf("Service %s/%s exists (type %s, ports %s", ns, name, orStr(string(svc.Spec.Type), "ClusterIP"), strings.Join(ports, ", "))
		if len(svc.Spec.Selector) > 0 {
			line += ", selector " + labels.SelectorFromSet(svc.Spec.Selector).String()
		}
		out = append(out, line+")")
		if !portOK {
			out = append(out, fmt.Sprintf("the app dials port %s but Service %s has no such port", d.Port, name))
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			out = append(out, "it is an ExternalName Service pointing at "+svc.Spec.ExternalName)
		}
		ready, notReady := info.readyEndpoints()
		out = append(out, fmt.Sprintf("%d ready %s, %d not ready", ready, report.Plural(ready, "endpoint", "endpoints"), notReady))
		switch {
		case info.PodsErr != "":
			out = append(out, "could not list its pods: "+info.PodsErr)
		case len(svc.Spec.Selector) > 0 && len(info.Pods) == 0:
			out = append(out, "no pods match its selector "+labels.SelectorFromSet(svc.Spec.Selector).String())
		}
		for i, p := range info.Pods {
			if i == 5 {
				out = append(out, fmt.Sprintf("… and %d more pods", len(info.Pods)-5))
				break
			}
			out = append(out, fmt.Sprintf("its pod %s: %s", p.Name, podProblem(&p)))
		}
	}
	out = append(out, c.netPolEvidence(info)...)
	return out
}

// netPolEvidence names the NetworkPolicies that govern this pod's egress or the dependency's ingress.
func (c *containerCtx) netPolEvidence(info *serviceInfo) []string {
	ev := c.ev
	if ev.NetPolErr != "" {
		return []string{"could not list NetworkPolicies: " + ev.NetPolErr}
	}
	var ours, theirs []string
	for _, np := range ev.NetworkPolicies {
		if np.Namespace == c.pod.Namespace && selects(&np, c.pod.Labels) && hasPolicyType(&np, networkingv1.PolicyTypeEgress) {
			ours = append(ours, np.Name)
		}
		if info != nil {
			for _, p := range info.Pods {
				if np.Namespace == p.Namespace && selects(&np, p.Labels) && hasPolicyType(&np, networkingv1.PolicyTypeIngress) && !slices.Contains(theirs, np.Name) {
					theirs = append(theirs, np.Name)
				}
			}
		}
	}
	if len(ev.NetworkPolicies) == 0 {
		return []string{"no NetworkPolicies in namespace " + ev.Namespace}
	}
	var out []string
	if len(ours) > 0 {
		out = append(out, fmt.Sprintf("NetworkPolicies restricting egress of this pod: %s", strings.Join(ours, ", ")))
	}
	if len(theirs) > 0 {
		out = append(out, fmt.Sprintf("NetworkPolicies restricting ingress of the dependency's pods: %s", strings.Join(theirs, ", ")))
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("%d NetworkPolicies in namespace %s, none restricting this pod's egress", len(ev.NetworkPolicies), ev.Namespace))
	}
	return out
}

func selects(np *networkingv1.NetworkPolicy, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	return err == nil && sel.Matches(labels.Set(l))
}

func hasPolicyType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		// Defaults: Ingress always; Egress when egress rules exist.
		return t == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
	}
	return slices.Contains(np.Spec.PolicyTypes, t)
}

// failingPods are the pods that crash, cannot start or are not ready.
func failingPods(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if podFailing(&p) {
			out = append(out, p)
		}
	}
	return out
}

func podFailing(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, cs := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && podstate.Waiting(w.Reason).Family != podstate.FamilyCreating {
			return true
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return true
		}
	}
	return false
}

// podProblem summarises a pod's state: "CrashLoopBackOff, 5 restarts, last exit 1", "Running, ready".
func podProblem(p *corev1.Pod) string {
	var restarts int32
	var parts []string
	ready := true
	for _, cs := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
		restarts += cs.RestartCount
		if w := cs.State.Waiting; w != nil && w.Reason != "" && len(parts) == 0 {
			parts = append(parts, w.Reason)
		}
		if t := cs.LastTerminationState.Terminated; t != nil && len(parts) < 3 {
			parts = append(parts, fmt.Sprintf("last exit %d", t.ExitCode))
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		ready = ready && cs.Ready
	}
	if len(parts) == 0 {
		parts = append(parts, string(p.Status.Phase))
		if p.Status.Phase == corev1.PodRunning {
			parts = append(parts, map[bool]string{true: "ready", false: "not ready"}[ready])
		}
	}
	if restarts > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", restarts, report.Plural(int(restarts), "restart", "restarts")))
	}
	return strings.Join(parts, ", ")
}
