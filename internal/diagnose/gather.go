package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Caps on what one diagnosis reads: replicas of one revision fail alike, so a few pods tell.
const (
	maxExaminedPods = 5   // pods whose events and logs are read
	maxRefs         = 20  // ConfigMaps read (Secrets: all, for masking)
	maxNodes        = 5   // nodes read
	maxServices     = 5   // dependency Services examined
	maxDepPods      = 20  // pods listed per dependency Service
	maxEventsPerObj = 200 // events listed per object
	maxListed       = 500 // ReplicaSets, ControllerRevisions, Services, NetworkPolicies listed
)

// limiter runs functions with at most n at a time and waits for all of them.
type limiter struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newLimiter(n int) *limiter { return &limiter{sem: make(chan struct{}, n)} }

func (l *limiter) Go(ctx context.Context, f func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-l.sem }()
		f()
	}()
}

func (l *limiter) Wait() { l.wg.Wait() }

// gather reads everything the classification needs. Read failures become ev.Gaps (or the
// Err of the object concerned); only a cancelled context is an error.
func (d *Diagnoser) gather(ctx context.Context, in Input) (*evidence, error) {
	ev := &evidence{
		Now: d.now(), Since: in.Since, Verdict: in.Verdict, Reason: in.Reason, Message: in.Message,
		Logs: map[string]logTail{}, Secrets: map[string]*objectInfo{}, ConfigMaps: map[string]*objectInfo{},
		Nodes: map[string]*corev1.Node{}, Services: map[string]*serviceInfo{},
	}
	var wl workload.PodWorkload
	switch {
	case in.Observed != nil:
		wl, in.Pods = in.Observed.Workload, in.Observed.Pods
		workloadInfo(ev, wl)
	case in.Workload != nil:
		var err error
		if wl, err = workload.For(in.Workload); err != nil {
			ev.Gaps = append(ev.Gaps, fmt.Sprintf("cannot diagnose workloads of type %T: only %s", in.Workload, workload.KindList()))
		} else {
			workloadInfo(ev, wl)
		}
	}
	if ev.Namespace == "" && len(in.Pods) > 0 {
		ev.Namespace = in.Pods[0].Namespace
	}
	ev.TotalPods = len(in.Pods)
	ev.Pods = examinedPods(in.Pods, maxExaminedPods)
	secrets := map[string]*corev1.Secret{}
	// Masking reads the live pods' specs as well as the template: a mutating webhook may have
	// injected Secrets the template does not name.
	maskSpecs := []*corev1.PodSpec{ev.podSpec()}
	for i := range in.Pods {
		maskSpecs = append(maskSpecs, &in.Pods[i].Spec)
	}
	if d.Client == nil {
		ev.Gaps = append(ev.Gaps, "no Kubernetes client: diagnosed from the pod statuses alone")
		ev.mask = newMasker(maskSpecs, secrets)
		return ev, ctx.Err()
	}
	var mu sync.Mutex
	gap := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		ev.Gaps = append(ev.Gaps, fmt.Sprintf(format, a...))
	}

	owners := d.revisions(ctx, ev, wl, in.Observed, gap)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The new revision's template may differ from the workload's as first seen: mask from both.
	maskSpecs = append([]*corev1.PodSpec{ev.podSpec()}, maskSpecs...)

	run := newLimiter(d.concurrency())
	// Events of the pods and the owners, and of the claims of pods no node took.
	objs := slices.Clone(owners)
	for _, name := range d.claims(ctx, ev, run, &mu) {
		objs = append(objs, objectRef{"PersistentVolumeClaim", name})
	}
	for _, p := range ev.Pods {
		objs = append(objs, objectRef{"Pod", p.Name})
		for _, o := range p.OwnerReferences {
			if o.Controller != nil && *o.Controller && !slices.Contains(objs, objectRef{o.Kind, o.Name}) {
				objs = append(objs, objectRef{o.Kind, o.Name})
			}
		}
	}
	for _, o := range objs {
		run.Go(ctx, func() {
			evs, err := d.events(ctx, ev.Namespace, o, ev.Since)
			if err != nil {
				gap("could not read events of %s/%s: %s", strings.ToLower(o.kind), o.name, oneLineErr(err))
				return
			}
			mu.Lock()
			ev.Events = append(ev.Events, evs...)
			mu.Unlock()
		})
	}
	// Secrets and ConfigMaps the pods reference: existence and key names (values only for masking).
	var refs []ref
	if spec := ev.podSpec(); spec != nil {
		refs = podRefs(spec)
	}
	// Every referenced Secret is read, however many: a Secret not read is a Secret not masked.
	// Those only the live pods name are read for masking alone.
	templateSecrets := refNames(refs, kindSecret)
	var liveRefs []ref
	for _, spec := range maskSpecs[1:] {
		liveRefs = append(liveRefs, podRefs(spec)...)
	}
	secretNames := slices.Clone(templateSecrets)
	for _, name := range refNames(liveRefs, kindSecret) {
		if !slices.Contains(secretNames, name) {
			secretNames = append(secretNames, name)
		}
	}
	for _, name := range secretNames {
		inTemplate := slices.Contains(templateSecrets, name)
		run.Go(ctx, func() {
			s, err := d.Client.CoreV1().Secrets(ev.Namespace).Get(ctx, name, metav1.GetOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				secrets[name] = s
			}
			if err != nil && !apierrors.IsNotFound(err) {
				ev.Gaps = append(ev.Gaps, fmt.Sprintf("could not read Secret %s/%s (%s): its values cannot be masked in logs beyond NAME=value assignments", ev.Namespace, name, oneLineErr(err)))
			}
			if !inTemplate {
				return // read for masking alone
			}
			ev.Secrets[name] = readInfo(name, s, err, secretInfo)
		})
	}
	for i, name := range refNames(refs, kindConfigMap) {
		if i == maxRefs {
			gap("read only the first %d of %d referenced ConfigMaps", maxRefs, len(refNames(refs, kindConfigMap)))
			break
		}
		run.Go(ctx, func() {
			cm, err := d.Client.CoreV1().ConfigMaps(ev.Namespace).Get(ctx, name, metav1.GetOptions{})
			mu.Lock()
			defer mu.Unlock()
			ev.ConfigMaps[name] = readInfo(name, cm, err, configMapInfo)
		})
	}
	// Nodes of the pods, for pressure conditions and taints. Reading nodes needs cluster-wide
	// rights that CI credentials often lack; without them the node is simply not judged.
	var nodes []string
	for _, p := range ev.Pods {
		if n := p.Spec.NodeName; n != "" && !slices.Contains(nodes, n) && len(nodes) < maxNodes {
			nodes = append(nodes, n)
		}
	}
	// For pods no node would take, the nodes' conditions and taints say whether pressure is why.
	if slices.ContainsFunc(ev.Pods, func(p corev1.Pod) bool { return p.Spec.NodeName == "" }) {
		run.Go(ctx, func() {
			list, err := d.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 4 * maxNodes})
			if err == nil {
				mu.Lock()
				for i := range list.Items {
					ev.Nodes[list.Items[i].Name] = &list.Items[i]
				}
				ev.AllNodes = list.Continue == ""
				mu.Unlock()
			}
		})
	}
	for _, name := range nodes {
		run.Go(ctx, func() {
			n, err := d.node(ctx, name)
			if err == nil {
				mu.Lock()
				ev.Nodes[name] = n
				mu.Unlock()
			}
		})
	}
	// Logs of the containers that ran: the previous instance when there is one.
	src := d.Logs
	if src == nil {
		src = ClientLogs{Client: d.Client}
	}
	for _, p := range ev.Pods {
		if d.LogLines <= 0 {
			break // --log-lines 0: logs are neither read nor shown
		}
		for _, lc := range logCandidates(&p) {
			run.Go(ctx, func() {
				lt := d.fetchLog(ctx, src, p.Namespace, p.Name, lc)
				mu.Lock()
				ev.Logs[logKey(p.Name, lc.name)] = lt
				mu.Unlock()
				// A failed read is a gap in the report; the rules still run on the status and
				// events the watch holds.
				if lt.Err != "" {
					gap("container %s of pod %s: %s", lc.name, p.Name, lt.Err)
				}
			})
		}
	}
	run.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	d.dependencies(ctx, ev, gap)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ev.mask = newMasker(maskSpecs, secrets)
	maskLogs(ev)
	// Gaps are appended by concurrent reads: sort them so that reports do not vary between runs.
	slices.Sort(ev.Gaps)
	slices.SortStableFunc(ev.Events, func(a, b corev1.Event) int {
		fa, _ := podstate.EventTimes(&a)
		fb, _ := podstate.EventTimes(&b)
		return fa.Compare(fb)
	})
	return ev, nil
}

type objectRef struct{ kind, name string }

// claims reads, on run, the PersistentVolumeClaims of the examined pods that no node took, and the
// cluster's StorageClasses (one list); it returns the claims' names.
func (d *Diagnoser) claims(ctx context.Context, ev *evidence, run *limiter, mu *sync.Mutex) []string {
	var names []string
	for _, p := range ev.Pods {
		if p.Spec.NodeName != "" {
			continue
		}
		for _, cl := range podstate.Claims(&p) {
			if !slices.Contains(names, cl.Name) {
				names = append(names, cl.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	ev.Claims = map[string]*claimInfo{}
	for _, name := range names {
		run.Go(ctx, func() {
			pvc, err := d.Client.CoreV1().PersistentVolumeClaims(ev.Namespace).Get(ctx, name, metav1.GetOptions{})
			info := &claimInfo{}
			switch {
			case err == nil:
				info.Exists, info.Bound = true, pvc.Spec.VolumeName != "" || pvc.Status.Phase == corev1.ClaimBound
				if c := pvc.Spec.StorageClassName; c != nil {
					info.Class = *c
				}
			case !apierrors.IsNotFound(err):
				info.Err = oneLineErr(err)
			}
			mu.Lock()
			ev.Claims[name] = info
			mu.Unlock()
		})
	}
	run.Go(ctx, func() {
		list, err := d.Client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{Limit: maxListed})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			ev.ClassesErr = oneLineErr(err)
			return
		}
		for _, sc := range list.Items {
			ev.Classes = append(ev.Classes, storageClass{Name: sc.Name,
				Default: sc.Annotations[defaultClassAnnotation] == "true" || sc.Annotations[betaDefaultClassAnnotation] == "true"})
		}
		slices.SortFunc(ev.Classes, func(a, b storageClass) int { return cmp.Compare(a.Name, b.Name) })
	})
	return names
}

// The annotations that mark the default StorageClass; the API server still honours the beta one.
const (
	defaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// node reads a node once per Diagnoser: the failing workloads of one run share a few nodes (a
// hundred of them, five nodes each, read ten nodes five hundred times), and a node's conditions
// and taints do not change within the seconds the diagnosis takes. A failed read is not kept:
// the next workload tries again.
func (d *Diagnoser) node(ctx context.Context, name string) (*corev1.Node, error) {
	if n, ok := d.nodes.Load(name); ok {
		return n.(*corev1.Node), nil
	}
	n, err := d.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	d.nodes.Store(name, n)
	return n, nil
}

// events lists one object's events since the rollout began. The field selector narrows the list
// on a real API server; the filter below keeps the answer right where it is ignored.
func (d *Diagnoser) events(ctx context.Context, ns string, o objectRef, since time.Time) ([]corev1.Event, error) {
	sel := fields.Set{"involvedObject.kind": o.kind, "involvedObject.name": o.name}.AsSelector().String()
	list, err := d.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel, Limit: maxEventsPerObj})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == o.kind && e.InvolvedObject.Name == o.name {
			// A folded event keeps its reason and object; the rules read the kubelet's words.
			e.Message = podstate.EventMessage(&e)
			out = append(out, e)
		}
	}
	return recentEvents(out, since), nil
}

// revisions takes the new and previous pod templates and their diff from the watch's observation,
// or, without one, reads the history and works them out (workload.Observe); it returns the owner
// objects whose events matter (the workload, and the controller of the new revision's pods).
func (d *Diagnoser) revisions(ctx context.Context, ev *evidence, wl workload.PodWorkload, obs *workload.Observation, gap func(string, ...any)) []objectRef {
	if wl == nil {
		return nil
	}
	owners := []objectRef{{ev.Kind, ev.Name}}
	if obs == nil {
		obs = &workload.Observation{}
		if h, err := wl.ListHistory(ctx, d.Client, maxListed); err != nil {
			obs.HistoryErr = err
		} else {
			obs = workload.Observe(wl, h, nil)
		}
	}
	if err := obs.HistoryErr; err != nil {
		kind := "revision"
		if k, ok := wl.Kind().(workload.PodKind); ok {
			kind, _ = k.History()
		}
		gap("could not list %ss of %s (%s): the changes of this rollout are unknown", kind, ev.workloadRef(), oneLineErr(err))
		return owners
	}
	cur, prev := obs.Current, obs.Previous
	if cur == nil || cur.Name == "" {
		return owners
	}
	if cur.Owner.Kind != ev.Kind {
		owners = append(owners, objectRef{cur.Owner.Kind, cur.Owner.Name})
	}
	ev.Template = obs.Template
	if n := cur.NumberString(); n != "" {
		ev.Revision = n
	}
	if prev != nil {
		ev.PreviousRevision = prev.NumberString()
		if obs.PreviousErr != nil {
			gap("could not read the previous revision: %v", obs.PreviousErr)
		} else {
			ev.Previous = obs.PreviousTemplate
		}
	}
	ev.Changes = obs.Changes
	return owners
}

// examinedPods picks up to n pods, failing ones first, in a stable order.
func examinedPods(pods []corev1.Pod, n int) []corev1.Pod {
	ps := slices.Clone(pods)
	slices.SortStableFunc(ps, func(a, b corev1.Pod) int {
		return cmp.Or(cmp.Compare(podRank(&a), podRank(&b)), cmp.Compare(a.Name, b.Name))
	})
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}

// podRank orders pods by how much they say about a failure: failing, then pending or not
// ready, then the rest.
func podRank(p *corev1.Pod) int {
	switch {
	case podFailing(p) || p.Status.Reason == podstate.ReasonEvicted:
		return 0
	case p.Status.Phase == corev1.PodPending || !podstate.Ready(p):
		return 1
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.RestartCount > 0 {
			return 0
		}
	}
	return 2
}

type logCandidate struct {
	name     string
	previous bool
	// firstRun: the container has not been restarted, so the crashed instance is the current
	// one and its log is the crash's log even when there is no previous one to read.
	firstRun bool
}

// logCandidates lists the containers of a pod that have a log worth reading: of the instance
// that crashed last, which is the current one while it has not been restarted (its state is
// terminated), else the previous one.
func logCandidates(p *corev1.Pod) []logCandidate {
	var out []logCandidate
	add := func(st corev1.ContainerStatus, init bool) {
		first := st.RestartCount == 0
		switch {
		case st.State.Terminated != nil && !(init && st.State.Terminated.ExitCode == 0):
			out = append(out, logCandidate{st.Name, false, first})
		case st.RestartCount > 0 || st.LastTerminationState.Terminated != nil:
			out = append(out, logCandidate{st.Name, true, first})
		case st.State.Running != nil && (init || !st.Ready):
			out = append(out, logCandidate{st.Name, false, first})
		}
	}
	for _, st := range p.Status.InitContainerStatuses {
		add(st, true)
	}
	for _, st := range p.Status.ContainerStatuses {
		add(st, false)
	}
	return out
}

// dependencies looks up the Services named in dial errors: the Service, its endpoints, its pods
// (and whether they fail), and the namespace's NetworkPolicies.
func (d *Diagnoser) dependencies(ctx context.Context, ev *evidence, gap func(string, ...any)) {
	var keys []string
	needIPs := map[string]bool{}
	for _, lt := range ev.Logs {
		for _, de := range logparse.DialErrors(lt.Lines) {
			where, ns, name := resolveHost(de.Host, ev.Namespace, nil)
			switch {
			case where == hostService && !slices.Contains(keys, serviceKey(ns, name)):
				keys = append(keys, serviceKey(ns, name))
			case where == hostExternal && logparse.IsIP(de.Host):
				needIPs[de.Host] = true
			}
			if de.IP != "" && de.IP != de.Host {
				needIPs[de.IP] = true
			}
		}
	}
	if len(keys) == 0 && len(needIPs) == 0 {
		return
	}
	slices.Sort(keys)
	cl := d.Client
	if np, err := cl.NetworkingV1().NetworkPolicies(ev.Namespace).List(ctx, metav1.ListOptions{Limit: maxListed}); err != nil {
		ev.NetPolErr = oneLineErr(err)
	} else {
		ev.NetworkPolicies = np.Items
	}
	known := map[string]*corev1.Service{}
	if len(needIPs) > 0 {
		// A bare address in the log: find the Service whose ClusterIP it is.
		if list, err := cl.CoreV1().Services(ev.Namespace).List(ctx, metav1.ListOptions{Limit: maxListed}); err == nil {
			for i := range list.Items {
				s := &list.Items[i]
				for _, ip := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
					if needIPs[ip] {
						known[serviceKey(s.Namespace, s.Name)] = s
						if !slices.Contains(keys, serviceKey(s.Namespace, s.Name)) {
							keys = append(keys, serviceKey(s.Namespace, s.Name))
						}
					}
				}
			}
		}
	}
	if len(keys) > maxServices {
		keys = keys[:maxServices]
	}
	var mu sync.Mutex
	run := newLimiter(d.concurrency())
	for _, key := range keys {
		run.Go(ctx, func() {
			info := d.service(ctx, key, known[key])
			mu.Lock()
			ev.Services[key] = info
			mu.Unlock()
		})
	}
	run.Wait()
}

func (d *Diagnoser) service(ctx context.Context, key string, svc *corev1.Service) *serviceInfo {
	ns, name, _ := cutKey(key)
	cl := d.Client
	if svc == nil {
		s, err := cl.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return &serviceInfo{Namespace: ns, Name: name}
		case err != nil:
			return &serviceInfo{Namespace: ns, Name: name, Err: oneLineErr(err)}
		}
		svc = s
	}
	var slicesFound []discoveryv1.EndpointSlice
	var endpoints *corev1.Endpoints
	sl, err := cl.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: name}.String(), Limit: maxListed})
	if err == nil {
		slicesFound = sl.Items
	} else if ep, err := cl.CoreV1().Endpoints(ns).Get(ctx, name, metav1.GetOptions{}); err == nil { //nolint:staticcheck // fallback where EndpointSlices cannot be listed
		endpoints = ep
	}
	var pods []corev1.Pod
	podsErr := ""
	if len(svc.Spec.Selector) > 0 {
		list, err := cl.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
			LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String(), Limit: maxDepPods})
		if err != nil {
			podsErr = oneLineErr(err)
		} else {
			pods = list.Items
		}
	}
	info := newServiceInfo(svc, slicesFound, pods)
	info.Endpoints, info.PodsErr = endpoints, podsErr
	return info
}

func cutKey(key string) (ns, name string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

// readInfo is what a read of a Secret or ConfigMap tells: its keys, that it does not exist, or
// why it could not be read.
func readInfo[T any](name string, obj T, err error, info func(T) *objectInfo) *objectInfo {
	switch {
	case err == nil:
		return info(obj)
	case apierrors.IsNotFound(err):
		return &objectInfo{Name: name}
	default:
		return &objectInfo{Name: name, Err: oneLineErr(err)}
	}
}
