package diagnose

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func baseTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api", "pod-template-hash": "aaa"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:    "api",
				Image:   "registry.example.com/api:v1",
				Command: []string{"/server"},
				Env: []corev1.EnvVar{
					{Name: "DATABASE_PORT", Value: "5432"},
					{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
					{Name: "GONE", Value: "x"},
				},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080)}},
					InitialDelaySeconds: 5, PeriodSeconds: 10, FailureThreshold: 3},
			}},
			Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-old"}}}},
		},
	}
}

func TestTemplateDiff(t *testing.T) {
	t.Parallel()
	prev := baseTemplate()
	next := baseTemplate()
	next.Labels["pod-template-hash"] = "bbb" // labels are not a meaningful change
	c := &next.Spec.Containers[0]
	c.Image = "registry.example.com/api:v2"
	c.Args = []string{"--verbose"}
	c.Env = []corev1.EnvVar{
		{Name: "DATABASE_PORT", Value: "abc"},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-credentials"}, Key: "password"}}},
		{Name: "NEW", Value: ""},
	}
	c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("256Mi")
	c.LivenessProbe.HTTPGet.Path = "/healthz"
	next.Spec.Volumes[0].Secret.SecretName = "tls-new"
	next.Spec.Containers = append(next.Spec.Containers, corev1.Container{Name: "sidecar", Image: "envoy:1.30"})

	got := templateDiff(prev, next)
	want := []report.Change{
		{Path: "containers[api].image", Before: "registry.example.com/api:v1", After: "registry.example.com/api:v2"},
		{Path: "containers[api].args", After: `["--verbose"]`},
		{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"abc"`},
		{Path: "containers[api].env[DB_PASSWORD]", Before: "secretKeyRef db/password", After: "secretKeyRef db-credentials/password"},
		{Path: "containers[api].env[NEW]", After: `""`},
		{Path: "containers[api].env[GONE]", Before: `"x"`},
		{Path: "containers[api].resources.limits.memory", Before: "512Mi", After: "256Mi"},
		{Path: "containers[api].livenessProbe",
			Before: "http-get :8080/health delay=5s timeout=1s period=10s #success=1 #failure=3",
			After:  "http-get :8080/healthz delay=5s timeout=1s period=10s #success=1 #failure=3"},
		{Path: "containers[sidecar]", After: "added (image envoy:1.30)"},
		{Path: "volumes[tls]", Before: "secret tls-old", After: "secret tls-new"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := templateDiff(nil, next); d != nil {
		t.Errorf("first deploy: got %+v, want no changes", d)
	}
	if d := templateDiff(prev, baseTemplate()); len(d) != 0 {
		t.Errorf("identical templates: got %+v", d)
	}
}

func TestDescribeChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    report.Change
		want string
	}{
		{report.Change{Before: `"5432"`, After: `"abc"`}, `DATABASE_PORT changed from "5432" to "abc" in this rollout`},
		{report.Change{After: `"abc"`}, `DATABASE_PORT was added in this rollout ("abc")`},
		{report.Change{Before: `"5432"`}, `DATABASE_PORT was removed in this rollout (it was "5432")`},
	} {
		if got := describeChange("DATABASE_PORT", tc.c); got != tc.want {
			t.Errorf("describeChange(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func crAt(t *testing.T, name string, rev int64, owner, hash string, tpl *corev1.PodTemplateSpec) appsv1.ControllerRevision {
	t.Helper()
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": tpl}})
	if err != nil {
		t.Fatal(err)
	}
	var patched map[string]any
	_ = json.Unmarshal(data, &patched)
	patched["spec"].(map[string]any)["template"].(map[string]any)["$patch"] = "replace"
	data, _ = json.Marshal(patched)
	return appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{Kind: "DaemonSet", Name: owner, UID: types.UID("uid-" + owner), Controller: new(true)}}},
		Revision: rev, Data: runtime.RawExtension{Raw: data},
	}
}

// The diagnosis's diff masks credential-named literals by the report's rule, as the rollback's
// diff does: one report never shows a value masked in one section and literal in the other.
func TestTemplateDiffMasksCredentialLiterals(t *testing.T) {
	t.Parallel()
	tmpl := func(pw, mode string) *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api",
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: pw}, {Name: "MODE", Value: mode}}}}}}
	}
	got := map[string]report.Change{}
	for _, c := range templateDiff(tmpl("old-pw", "a"), tmpl("new-pw", "b")) {
		got[c.Path] = c
	}
	if c := got["containers[api].env[DB_PASSWORD]"]; !strings.HasPrefix(c.Before, report.MaskedValue) || c.After != report.MaskedValue || strings.Contains(c.Before+c.After, "pw") {
		t.Errorf("DB_PASSWORD change = %+v, want both %s", c, report.MaskedValue)
	}
	if c := got["containers[api].env[MODE]"]; c.Before != `"a"` || c.After != `"b"` {
		t.Errorf("MODE change = %+v, want the literals", c)
	}
}
