package rollback

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func TestTemplateChanges(t *testing.T) {
	t.Parallel()
	base := func(mod func(*corev1.PodTemplateSpec)) *corev1.PodTemplateSpec {
		p := &corev1.PodTemplateSpec{}
		p.Labels = map[string]string{"app": "api"}
		p.Spec.Containers = []corev1.Container{{Name: "api", Image: "api:v1", Args: []string{"--port=8080"}}}
		if mod != nil {
			mod(p)
		}
		return p
	}
	tests := []struct {
		name           string
		failed, before *corev1.PodTemplateSpec
		want           []report.Change
	}{
		{name: "equal", failed: base(nil), before: base(nil), want: nil},
		{
			name: "image and args",
			failed: base(func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].Image = "api:v2"
				p.Spec.Containers[0].Args = nil
			}),
			before: base(nil),
			want: []report.Change{
				{Path: "containers[api].args", After: `["--port=8080"]`},
				{Path: "containers[api].image", Before: "api:v2", After: "api:v1"},
			},
		},
		{
			name: "env added by the failed revision, literal values of sensitive names masked, refs shown",
			failed: base(func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].Env = []corev1.EnvVar{
					{Name: "DB_PORT", Value: "5433"},
					{Name: "API_TOKEN", Value: "s3cr3t"},
					{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
				}
			}),
			before: base(nil),
			want: []report.Change{
				{Path: "containers[api].env[API_TOKEN]", Before: "(masked)"},
				{Path: "containers[api].env[DB_PASSWORD].valueFrom.secretKeyRef.key", Before: "password"},
				{Path: "containers[api].env[DB_PASSWORD].valueFrom.secretKeyRef.name", Before: "db"},
				{Path: "containers[api].env[DB_PORT]", Before: "5433"},
			},
		},
		{
			name:   "labels with dotted keys and resources",
			failed: base(func(p *corev1.PodTemplateSpec) { p.Labels["app.kubernetes.io/version"] = "2" }),
			before: base(func(p *corev1.PodTemplateSpec) {
				p.Labels["app.kubernetes.io/version"] = "1"
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
			}),
			want: []report.Change{
				{Path: "containers[api].resources.limits.memory", After: "256Mi"},
				{Path: "metadata.labels[app.kubernetes.io/version]", Before: "2", After: "1"},
			},
		},
		{
			name: "sidecar added by the failed revision",
			failed: base(func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", Image: "envoy:1"})
			}),
			before: base(nil),
			want: []report.Change{
				// resources: {} against nothing is no change.
				{Path: "containers[proxy].image", Before: "envoy:1"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := templateChanges(tc.failed, tc.before)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("templateChanges =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}
