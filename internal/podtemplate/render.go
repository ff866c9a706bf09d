package podtemplate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// EnvSource renders where an env var's value comes from: a quoted literal (so an empty value is
// "" and never looks unset), or the reference it reads, such as "secretKeyRef db/password".
// A Secret's value is never read, so it is never shown.
func EnvSource(e corev1.EnvVar) string {
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

// Argv renders a command or args list as quoted strings: ["/server", "--port=8080"].
func Argv(a []string) string {
	if len(a) == 0 {
		return ""
	}
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Probe renders a probe as kubectl describe does: "http-get :8080/healthz delay=5s timeout=1s
// period=10s #success=1 #failure=3", with the API's defaults filled in.
func Probe(p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	return ProbeHandler(p) + fmt.Sprintf(" delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, orInt(p.TimeoutSeconds, 1), orInt(p.PeriodSeconds, 10), orInt(p.SuccessThreshold, 1), orInt(p.FailureThreshold, 3))
}

// ProbeHandler renders what a probe checks: "http-get :8080/healthz", "tcp-socket :5432", "exec ["cat", "/app/ready"]".
func ProbeHandler(p *corev1.Probe) string {
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
		return "exec " + Argv(h.Exec.Command)
	}
	return "probe"
}

func orInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
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

// volumeString renders a volume's source: "secret tls", "configMap app-config",
// "persistentVolumeClaim data". The diagnosis reads the name back after the first space.
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

// NodeSelector renders a selector as key=value pairs in key order: "disk=ssd,zone=a".
func NodeSelector(m map[string]string) string {
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

// Tolerations renders tolerations as "key=value:Effect" or "key exists:Effect", comma separated.
func Tolerations(ts []corev1.Toleration) string {
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
