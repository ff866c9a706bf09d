package diagnose

import (
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/rollout-gate/rollout-gate/internal/mask"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// evidence is everything gathered for one failed rollout. classify reads only this, so the whole
// diagnosis can be tested from recorded objects and logs without a cluster.
type evidence struct {
	Now     time.Time
	Since   time.Time
	Verdict report.Verdict
	Reason  string // the watch's verdict reason
	Message string

	Kind      string // Deployment, StatefulSet, DaemonSet ("" when the workload was not given)
	Namespace string
	Name      string
	// Conditions are the rollout controller's status conditions it quotes (a Deployment's
	// ReplicaFailure, Progressing: workload.Rollout.Conditions).
	Conditions []workload.Condition
	// Job is the Job as the watch last saw it, when the workload is one; completes says the
	// workload runs to completion (a workload.Completion), so that its fixes are manifest changes.
	Job       *batchv1.Job
	completes bool
	// tool is the workload kind's own tool when `kubectl rollout` does not know it (an Argo
	// Rollout: `kubectl argo rollouts`): its status, undo and restart fixes are that tool's.
	tool workload.ManualRollbackKind

	Template         *corev1.PodTemplateSpec // the new revision's pod template
	Previous         *corev1.PodTemplateSpec // nil on the first deploy or when it could not be read
	Revision         string
	PreviousRevision string
	Changes          []report.Change

	Pods      []corev1.Pod // pods of the new revision that were examined (failing first, capped)
	TotalPods int          // all pods of the new revision

	Events     []corev1.Event // of the examined pods and the owners, since Since
	Logs       map[string]logTail
	Secrets    map[string]*objectInfo // by name, in Namespace
	ConfigMaps map[string]*objectInfo
	Nodes      map[string]*corev1.Node
	// AllNodes is set when Nodes holds every node of the cluster (listed for an unscheduled pod).
	AllNodes bool

	// Claims are the PersistentVolumeClaims of the examined pods no node took, by name; Classes
	// are the cluster's StorageClasses, listed when such a claim names one (ClassesErr: why they
	// could not be). A claim whose class is not among them never binds (causes_storage.go).
	Claims     map[string]*claimInfo
	Classes    []storageClass
	ClassesErr string

	// Services are the dependencies named in dial errors, by "namespace/name".
	Services        map[string]*serviceInfo
	NetworkPolicies []networkingv1.NetworkPolicy
	NetPolErr       string

	// Gaps are things that could not be read; they are reported as evidence, never as errors.
	Gaps []string

	mask *mask.Masker
}

// logKey names a container's log in evidence.Logs.
func logKey(pod, container string) string { return pod + "/" + container }

// logTail is the tail of one container's log.
type logTail struct {
	Lines     []string
	Times     []time.Time // per line, zero when the line carried no timestamp
	Previous  bool
	Truncated bool
	Err       string // why the log could not be read
	// Cut: the read stopped inside the last line (its byte limit), which may end in half a secret.
	Cut bool
}

// objectInfo is what the diagnosis may know about a Secret or ConfigMap: existence and key names.
type objectInfo struct {
	Name   string
	Exists bool
	Keys   []string // sorted
	Err    string   // set when existence could not be determined (forbidden, timeout)
}

func secretInfo(s *corev1.Secret) *objectInfo {
	info := &objectInfo{Name: s.Name, Exists: true}
	for k := range s.Data {
		info.Keys = append(info.Keys, k)
	}
	for k := range s.StringData {
		if !slices.Contains(info.Keys, k) {
			info.Keys = append(info.Keys, k)
		}
	}
	slices.Sort(info.Keys)
	return info
}

func configMapInfo(cm *corev1.ConfigMap) *objectInfo {
	info := &objectInfo{Name: cm.Name, Exists: true}
	for k := range cm.Data {
		info.Keys = append(info.Keys, k)
	}
	for k := range cm.BinaryData {
		info.Keys = append(info.Keys, k)
	}
	slices.Sort(info.Keys)
	return info
}

// claimInfo is what the diagnosis knows of one PersistentVolumeClaim.
type claimInfo struct {
	Exists bool
	Class  string // spec.storageClassName; "" when none is named
	Bound  bool
	Err    string // why it could not be read
}

// storageClass is one StorageClass of the cluster, and whether it is the default one.
type storageClass struct {
	Name    string
	Default bool
}

// serviceInfo is what is known about one dependency Service named in a dial error.
type serviceInfo struct {
	Namespace string
	Name      string
	Exists    bool
	Err       string
	Service   *corev1.Service
	Slices    []discoveryv1.EndpointSlice
	Endpoints *corev1.Endpoints // fallback when EndpointSlices cannot be listed
	Pods      []corev1.Pod      // pods selected by the Service's selector (capped)
	PodsErr   string
}

// readyEndpoints counts ready addresses behind the Service.
func (s *serviceInfo) readyEndpoints() (ready, notReady int) {
	for _, sl := range s.Slices {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				ready += len(ep.Addresses)
			} else {
				notReady += len(ep.Addresses)
			}
		}
	}
	if len(s.Slices) == 0 && s.Endpoints != nil {
		for _, ss := range s.Endpoints.Subsets {
			ready += len(ss.Addresses)
			notReady += len(ss.NotReadyAddresses)
		}
	}
	return ready, notReady
}

// newServiceInfo keeps the slices and pods that belong to svc.
func newServiceInfo(svc *corev1.Service, slicesIn []discoveryv1.EndpointSlice, pods []corev1.Pod) *serviceInfo {
	info := &serviceInfo{Namespace: svc.Namespace, Name: svc.Name, Exists: true, Service: svc}
	for _, sl := range slicesIn {
		if sl.Namespace == svc.Namespace && sl.Labels[discoveryv1.LabelServiceName] == svc.Name {
			info.Slices = append(info.Slices, sl)
		}
	}
	if len(svc.Spec.Selector) > 0 {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, p := range pods {
			if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) {
				info.Pods = append(info.Pods, p)
			}
		}
	}
	return info
}

// ref is one reference from a pod spec to a Secret or ConfigMap.
type ref struct {
	Kind      string // "Secret" or "ConfigMap"
	Name      string
	Key       string // referenced key; "" for envFrom and whole volumes
	Container string // "" for volumes (pod level) and imagePullSecrets
	Init      bool
	EnvVar    string // env var name for env valueFrom refs
	Prefix    string // envFrom prefix
	Volume    string // volume name for volume refs
	Field     string // how the reference is spelled: "env DB_PASSWORD", "envFrom", "volume creds", "imagePullSecrets"
	Optional  bool
}

const (
	kindSecret    = "Secret"
	kindConfigMap = "ConfigMap"
)

// podRefs lists every Secret and ConfigMap a pod spec references.
func podRefs(spec *corev1.PodSpec) []ref {
	var out []ref
	walk := func(cs []corev1.Container, init bool) {
		for _, c := range cs {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if s := e.ValueFrom.SecretKeyRef; s != nil {
					out = append(out, ref{Kind: kindSecret, Name: s.Name, Key: s.Key, Container: c.Name, Init: init,
						EnvVar: e.Name, Field: "env " + e.Name, Optional: deref(s.Optional)})
				}
				if m := e.ValueFrom.ConfigMapKeyRef; m != nil {
					out = append(out, ref{Kind: kindConfigMap, Name: m.Name, Key: m.Key, Container: c.Name, Init: init,
						EnvVar: e.Name, Field: "env " + e.Name, Optional: deref(m.Optional)})
				}
			}
			for _, ef := range c.EnvFrom {
				if s := ef.SecretRef; s != nil {
					out = append(out, ref{Kind: kindSecret, Name: s.Name, Container: c.Name, Init: init, Prefix: ef.Prefix,
						Field: "envFrom", Optional: deref(s.Optional)})
				}
				if m := ef.ConfigMapRef; m != nil {
					out = append(out, ref{Kind: kindConfigMap, Name: m.Name, Container: c.Name, Init: init, Prefix: ef.Prefix,
						Field: "envFrom", Optional: deref(m.Optional)})
				}
			}
		}
	}
	walk(spec.InitContainers, true)
	walk(spec.Containers, false)
	for _, v := range spec.Volumes {
		if s := v.Secret; s != nil {
			out = append(out, volumeRefs(kindSecret, s.SecretName, v.Name, "volume "+v.Name, s.Items, deref(s.Optional))...)
		}
		if m := v.ConfigMap; m != nil {
			out = append(out, volumeRefs(kindConfigMap, m.Name, v.Name, "volume "+v.Name, m.Items, deref(m.Optional))...)
		}
		if p := v.Projected; p != nil {
			for _, src := range p.Sources {
				if s := src.Secret; s != nil {
					out = append(out, volumeRefs(kindSecret, s.Name, v.Name, "projected volume "+v.Name, s.Items, deref(s.Optional))...)
				}
				if m := src.ConfigMap; m != nil {
					out = append(out, volumeRefs(kindConfigMap, m.Name, v.Name, "projected volume "+v.Name, m.Items, deref(m.Optional))...)
				}
			}
		}
	}
	for _, ps := range spec.ImagePullSecrets {
		out = append(out, ref{Kind: kindSecret, Name: ps.Name, Field: "imagePullSecrets", Optional: true})
	}
	return out
}

func volumeRefs(kind, name, volume, field string, items []corev1.KeyToPath, optional bool) []ref {
	if len(items) == 0 {
		return []ref{{Kind: kind, Name: name, Volume: volume, Field: field, Optional: optional}}
	}
	out := make([]ref, 0, len(items))
	for _, it := range items {
		out = append(out, ref{Kind: kind, Name: name, Key: it.Key, Volume: volume, Field: field, Optional: optional})
	}
	return out
}

func deref(b *bool) bool { return b != nil && *b }

// refNames returns the distinct names of kind referenced by refs, in order of first reference.
func refNames(refs []ref, kind string) []string {
	var out []string
	for _, r := range refs {
		if r.Kind == kind && r.Name != "" && !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// podSpec is the spec used to find references: the new template's, else the first pod's.
func (ev *evidence) podSpec() *corev1.PodSpec {
	if ev.Template != nil {
		return &ev.Template.Spec
	}
	if len(ev.Pods) > 0 {
		return &ev.Pods[0].Spec
	}
	return nil
}
