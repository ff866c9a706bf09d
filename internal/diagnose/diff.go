package diagnose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// templateDiff lists the meaningful differences between two pod templates: images, env values
// and references, resources, probes, command and args, volumes, and the scheduling fields that
// explain unschedulable pods. Literal env values are configuration and are shown (quoted); values
// that come from Secrets are only ever shown as the reference. A nil prev (first deploy) yields none.
func templateDiff(prev, next *corev1.PodTemplateSpec) []report.Change {
	if prev == nil || next == nil {
		return nil
	}
	var out []report.Change
	add := func(path, before, after string) {
		if before != after {
			out = append(out, report.Change{Path: path, Before: before, After: after})
		}
	}
	diffContainers := func(kind string, a, b []corev1.Container) {
		for _, nc := range b {
			p := kind + "[" + nc.Name + "]"
			i := slices.IndexFunc(a, func(c corev1.Container) bool { return c.Name == nc.Name })
			if i < 0 {
				add(p, "", "added (image "+nc.Image+")")
				continue
			}
			oc := a[i]
			add(p+".image", oc.Image, nc.Image)
			add(p+".command", argv(oc.Command), argv(nc.Command))
			add(p+".args", argv(oc.Args), argv(nc.Args))
			diffEnv(p, oc.Env, nc.Env, add)
			add(p+".envFrom", envFromString(oc.EnvFrom), envFromString(nc.EnvFrom))
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				add(p+".resources.requests."+string(r), qty(oc.Resources.Requests, r), qty(nc.Resources.Requests, r))
				add(p+".resources.limits."+string(r), qty(oc.Resources.Limits, r), qty(nc.Resources.Limits, r))
			}
			add(p+".livenessProbe", probeString(oc.LivenessProbe), probeString(nc.LivenessProbe))
			add(p+".readinessProbe", probeString(oc.ReadinessProbe), probeString(nc.ReadinessProbe))
			add(p+".startupProbe", probeString(oc.StartupProbe), probeString(nc.StartupProbe))
			add(p+".volumeMounts", mountsString(oc.VolumeMounts), mountsString(nc.VolumeMounts))
			add(p+".imagePullPolicy", string(oc.ImagePullPolicy), string(nc.ImagePullPolicy))
		}
		for _, oc := range a {
			if !slices.ContainsFunc(b, func(c corev1.Container) bool { return c.Name == oc.Name }) {
				add(kind+"["+oc.Name+"]", "image "+oc.Image, "removed")
			}
		}
	}
	diffContainers("initContainers", prev.Spec.InitContainers, next.Spec.InitContainers)
	diffContainers("containers", prev.Spec.Containers, next.Spec.Containers)

	for _, nv := range next.Spec.Volumes {
		i := slices.IndexFunc(prev.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == nv.Name })
		before := ""
		if i >= 0 {
			before = volumeString(prev.Spec.Volumes[i])
		}
		add("volumes["+nv.Name+"]", before, volumeString(nv))
	}
	for _, ov := range prev.Spec.Volumes {
		if !slices.ContainsFunc(next.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == ov.Name }) {
			add("volumes["+ov.Name+"]", volumeString(ov), "")
		}
	}
	add("serviceAccountName", prev.Spec.ServiceAccountName, next.Spec.ServiceAccountName)
	add("nodeSelector", mapString(prev.Spec.NodeSelector), mapString(next.Spec.NodeSelector))
	add("tolerations", tolerationsString(prev.Spec.Tolerations), tolerationsString(next.Spec.Tolerations))
	add("imagePullSecrets", pullSecretsString(prev.Spec.ImagePullSecrets), pullSecretsString(next.Spec.ImagePullSecrets))
	add("securityContext.runAsNonRoot", boolPtr(podRunAsNonRoot(prev)), boolPtr(podRunAsNonRoot(next)))
	return out
}

func podRunAsNonRoot(t *corev1.PodTemplateSpec) *bool {
	if t.Spec.SecurityContext == nil {
		return nil
	}
	return t.Spec.SecurityContext.RunAsNonRoot
}

func boolPtr(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func diffEnv(p string, a, b []corev1.EnvVar, add func(path, before, after string)) {
	for _, ne := range b {
		before, rawBefore := "", ""
		if i := slices.IndexFunc(a, func(e corev1.EnvVar) bool { return e.Name == ne.Name }); i >= 0 {
			before, rawBefore = diffEnvString(a[i]), envString(a[i])
		}
		after := diffEnvString(ne)
		if before == after && rawBefore != envString(ne) {
			// A masked value changed: say so without showing either value.
			before += " (changed)"
		}
		add(p+".env["+ne.Name+"]", before, after)
	}
	for _, oe := range a {
		if !slices.ContainsFunc(b, func(e corev1.EnvVar) bool { return e.Name == oe.Name }) {
			add(p+".env["+oe.Name+"]", diffEnvString(oe), "")
		}
	}
}

// diffEnvString is envString with the report's rule for credential-named literals applied, the
// same rule as the rollback's diff.
func diffEnvString(e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		return report.RedactEnvValue(e.Name, envString(e))
	}
	return envString(e)
}

// envString renders an env var's source: a quoted literal, or the reference (never a Secret value).
func envString(e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		return strconv.Quote(e.Value)
	}
	switch f := e.ValueFrom; {
	case f.SecretKeyRef != nil:
		return "secretKeyRef " + f.SecretKeyRef.Name + "/" + f.SecretKeyRef.Key
	case f.ConfigMapKeyRef != nil:
		return "configMapKeyRef " + f.ConfigMapKeyRef.Name + "/" + f.ConfigMapKeyRef.Key
	case f.FieldRef != nil:
		return "fieldRef " + f.FieldRef.FieldPath
	case f.ResourceFieldRef != nil:
		return "resourceFieldRef " + f.ResourceFieldRef.Resource
	}
	return "valueFrom"
}

func envFromString(efs []corev1.EnvFromSource) string {
	var parts []string
	for _, ef := range efs {
		s := ""
		switch {
		case ef.SecretRef != nil:
			s = "secretRef " + ef.SecretRef.Name
		case ef.ConfigMapRef != nil:
			s = "configMapRef " + ef.ConfigMapRef.Name
		}
		if ef.Prefix != "" {
			s += " prefix " + ef.Prefix
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func argv(a []string) string {
	if len(a) == 0 {
		return ""
	}
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func qty(l corev1.ResourceList, r corev1.ResourceName) string {
	if q, ok := l[r]; ok {
		return q.String()
	}
	return ""
}

// probeString renders a probe as kubectl describe does: "http-get :8080/healthz delay=5s timeout=1s period=10s #failure=3".
func probeString(p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	return probeHandler(p) + fmt.Sprintf(" delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, orInt(p.TimeoutSeconds, 1), orInt(p.PeriodSeconds, 10), orInt(p.SuccessThreshold, 1), orInt(p.FailureThreshold, 3))
}

// probeHandler renders what a probe checks: "http-get :8080/healthz", "tcp-socket :5432", "exec [cat /tmp/ok]".
func probeHandler(p *corev1.Probe) string {
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		scheme := ""
		if h.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https "
		}
		path := h.HTTPGet.Path
		if path == "" {
			path = "/"
		}
		return "http-get " + scheme + h.HTTPGet.Host + ":" + h.HTTPGet.Port.String() + path
	case h.TCPSocket != nil:
		return "tcp-socket " + h.TCPSocket.Host + ":" + h.TCPSocket.Port.String()
	case h.GRPC != nil:
		return "grpc :" + strconv.Itoa(int(h.GRPC.Port))
	case h.Exec != nil:
		return "exec " + argv(h.Exec.Command)
	}
	return "probe"
}

func orInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

func mountsString(ms []corev1.VolumeMount) string {
	var parts []string
	for _, m := range ms {
		s := m.Name + " at " + m.MountPath
		if m.SubPath != "" {
			s += " (subPath " + m.SubPath + ")"
		}
		if m.ReadOnly {
			s += " ro"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func volumeString(v corev1.Volume) string {
	switch s := v.VolumeSource; {
	case s.Secret != nil:
		return "secret " + s.Secret.SecretName
	case s.ConfigMap != nil:
		return "configMap " + s.ConfigMap.Name
	case s.PersistentVolumeClaim != nil:
		return "persistentVolumeClaim " + s.PersistentVolumeClaim.ClaimName
	case s.EmptyDir != nil:
		if q := s.EmptyDir.SizeLimit; q != nil {
			return "emptyDir sizeLimit " + q.String()
		}
		return "emptyDir"
	case s.HostPath != nil:
		return "hostPath " + s.HostPath.Path
	case s.Projected != nil:
		var parts []string
		for _, src := range s.Projected.Sources {
			switch {
			case src.Secret != nil:
				parts = append(parts, "secret "+src.Secret.Name)
			case src.ConfigMap != nil:
				parts = append(parts, "configMap "+src.ConfigMap.Name)
			case src.ServiceAccountToken != nil:
				parts = append(parts, "serviceAccountToken")
			case src.DownwardAPI != nil:
				parts = append(parts, "downwardAPI")
			}
		}
		return "projected (" + strings.Join(parts, ", ") + ")"
	case s.DownwardAPI != nil:
		return "downwardAPI"
	case s.CSI != nil:
		return "csi " + s.CSI.Driver
	}
	return "other"
}

func mapString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func tolerationsString(ts []corev1.Toleration) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		s := t.Key
		if t.Operator == corev1.TolerationOpExists {
			s += " exists"
		} else if t.Value != "" {
			s += "=" + t.Value
		}
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func pullSecretsString(ps []corev1.LocalObjectReference) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name
	}
	return strings.Join(parts, ", ")
}

// changeFor returns the change at path, if this rollout made one.
func changeFor(changes []report.Change, path string) (report.Change, bool) {
	for _, c := range changes {
		if c.Path == path {
			return c, true
		}
	}
	return report.Change{}, false
}

// describeChange says in words what a change did: `DATABASE_PORT changed from "5432" to "abc" in this rollout`.
func describeChange(subject string, c report.Change) string {
	switch {
	case c.Before == "":
		return fmt.Sprintf("%s was added in this rollout (%s)", subject, c.After)
	case c.After == "":
		return fmt.Sprintf("%s was removed in this rollout (it was %s)", subject, c.Before)
	}
	return fmt.Sprintf("%s changed from %s to %s in this rollout", subject, c.Before, c.After)
}
