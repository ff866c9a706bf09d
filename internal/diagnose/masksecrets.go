package diagnose

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/mask"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Which values are secret, the Kubernetes part of the masking policy (package mask has the rest):
// every value the pods can receive from a Secret they reference (env, envFrom, volumes, projected
// volumes, imagePullSecrets), read from the live pods' specs as well as the template, so that
// Secrets a webhook injected are covered; and literal env values whose names say they are
// credentials (report.SensitiveEnvName), as the template diffs mask them.

// newMasker collects the values of every Secret the pod specs reference, labelled by the env var
// that receives them (env valueFrom, envFrom with prefix) or by the key (volumes). secrets holds the
// Secrets that could be read; a Secret that could not be read still has its variable names masked.
func newMasker(specs []*corev1.PodSpec, secrets map[string]*corev1.Secret) *mask.Masker {
	var b mask.Builder
	for _, spec := range specs {
		if spec == nil {
			continue
		}
		for _, r := range podRefs(spec) {
			if r.Kind != kindSecret || r.Field == "imagePullSecrets" {
				continue
			}
			s := secrets[r.Name]
			switch {
			case r.EnvVar != "":
				b.Name(r.EnvVar)
				if s != nil {
					b.Value(r.EnvVar, secretValue(s, r.Key))
				}
			case r.Field == "envFrom":
				if s == nil {
					continue
				}
				for k := range secretKeys(s) {
					b.Name(r.Prefix + k)
					b.Value(r.Prefix+k, secretValue(s, k))
				}
			default: // volumes: every key, or the listed ones
				if s == nil {
					continue
				}
				for k := range secretKeys(s) {
					if r.Key == "" || r.Key == k {
						b.Value(k, secretValue(s, k))
					}
				}
			}
		}
		// Literal values of credential-named variables: masked as the template diffs mask them.
		for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for _, c := range cs {
				for _, e := range c.Env {
					if e.ValueFrom == nil && e.Value != "" && report.SensitiveEnvName(e.Name) {
						b.Value(e.Name, []byte(e.Value))
					}
				}
			}
		}
		// Image pull secrets carry registry credentials: mask them too, by key.
		for _, ps := range spec.ImagePullSecrets {
			if s := secrets[ps.Name]; s != nil {
				for k := range secretKeys(s) {
					b.Value(k, secretValue(s, k))
				}
			}
		}
	}
	return b.Masker()
}

func secretKeys(s *corev1.Secret) map[string]bool {
	keys := map[string]bool{}
	for k := range s.Data {
		keys[k] = true
	}
	for k := range s.StringData {
		keys[k] = true
	}
	return keys
}

func secretValue(s *corev1.Secret, key string) []byte {
	if v, ok := s.Data[key]; ok {
		return v
	}
	if v, ok := s.StringData[key]; ok {
		return []byte(v)
	}
	return nil
}

// maskLogs masks the log lines as soon as the masker exists, before any rule quotes or cuts them
// (a summary cut at 200 characters must not leave half a secret), and masks the start of a secret
// at the end of a line the read cut short.
func maskLogs(ev *evidence) {
	for k, lt := range ev.Logs {
		lt.Lines = slices.Clone(lt.Lines)
		for i := range lt.Lines {
			if lt.Cut && i == len(lt.Lines)-1 {
				lt.Lines[i] = ev.mask.MaskCut(lt.Lines[i])
			} else {
				lt.Lines[i] = ev.mask.Mask(lt.Lines[i])
			}
		}
		ev.Logs[k] = lt
	}
}
