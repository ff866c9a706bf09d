package diagnose

import (
	"encoding/json"
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
