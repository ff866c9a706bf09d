package podtemplate

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func secretRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

func configMapRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

// template is a small realistic pod template; mod changes it.
func template(mod func(*corev1.PodTemplateSpec)) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: "migrate:v1"}},
			Containers: []corev1.Container{{
				Name: "api", Image: "api:v1", Command: []string{"/server"},
				Env: []corev1.EnvVar{
					{Name: "DATABASE_PORT", Value: "5432"},
					{Name: "DB_PASSWORD", ValueFrom: secretRef("db", "password")},
					{Name: "LOG_LEVEL", ValueFrom: configMapRef("api-config", "level")},
				},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080)}},
					InitialDelaySeconds: 5},
				VolumeMounts: []corev1.VolumeMount{{Name: "tls", MountPath: "/tls"}},
			}},
			Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-v1"}}}},
		},
	}
	if mod != nil {
		mod(t)
	}
	return t
}

func api(t *corev1.PodTemplateSpec) *corev1.Container { return &t.Spec.Containers[0] }

func TestDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*corev1.PodTemplateSpec) // applied to the after side
		want []report.Change
	}{
		{name: "identical", want: nil},
		{
			name: "revision labels are not a change",
			mod: func(p *corev1.PodTemplateSpec) {
				p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "7d4b9c"
				p.Labels[appsv1.ControllerRevisionHashLabelKey] = "web-5f6c"
			},
		},
		{
			name: "image, command and args",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).Image = "api:v2"
				api(p).Command = nil
				api(p).Args = []string{"--verbose"}
			},
			want: []report.Change{
				{Path: "containers[api].args", After: `["--verbose"]`},
				{Path: "containers[api].command", Before: `["/server"]`},
				{Path: "containers[api].image", Before: "api:v1", After: "api:v2"},
			},
		},
		{
			name: "env literals: changed, added empty, removed",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).Env[0].Value = "abc"
				api(p).Env = append(api(p).Env, corev1.EnvVar{Name: "FEATURE", Value: ""})
				api(p).Env = slicesDelete(api(p).Env, "LOG_LEVEL")
			},
			want: []report.Change{
				{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"abc"`},
				{Path: "containers[api].env[FEATURE]", After: `""`},
				{Path: "containers[api].env[LOG_LEVEL]", Before: "configMapKeyRef api-config/level"},
			},
		},
		{
			name: "secret and configmap references are shown, never values",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).Env[1].ValueFrom = secretRef("db-credentials", "password")
				api(p).Env[2].ValueFrom = configMapRef("api-config-v2", "level")
			},
			want: []report.Change{
				{Path: "containers[api].env[DB_PASSWORD]", Before: "secretKeyRef db/password", After: "secretKeyRef db-credentials/password"},
				{Path: "containers[api].env[LOG_LEVEL]", Before: "configMapKeyRef api-config/level", After: "configMapKeyRef api-config-v2/level"},
			},
		},
		{
			name: "a reference's flag that the rendering hides is compared field by field",
			mod:  func(p *corev1.PodTemplateSpec) { api(p).Env[1].ValueFrom.SecretKeyRef.Optional = new(true) },
			want: []report.Change{{Path: "containers[api].env[DB_PASSWORD].valueFrom.secretKeyRef.optional", After: "true"}},
		},
		{
			name: "a credential-named literal is masked on both sides, its change still listed",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).Env = append(api(p).Env, corev1.EnvVar{Name: "API_TOKEN", Value: "s3cr3t"})
				api(p).Env[1] = corev1.EnvVar{Name: "DB_PASSWORD", Value: "hunter2"}
			},
			want: []report.Change{
				{Path: "containers[api].env[API_TOKEN]", After: report.MaskedValue},
				{Path: "containers[api].env[DB_PASSWORD]", Before: "secretKeyRef db/password", After: report.MaskedValue},
			},
		},
		{
			name: "probes in kubectl describe's words",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).LivenessProbe.HTTPGet.Path = "/healthz"
				api(p).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}}
			},
			want: []report.Change{
				{Path: "containers[api].livenessProbe",
					Before: "http-get :8080/health delay=5s timeout=1s period=10s #success=1 #failure=3",
					After:  "http-get :8080/healthz delay=5s timeout=1s period=10s #success=1 #failure=3"},
				{Path: "containers[api].readinessProbe", After: "tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=3"},
			},
		},
		{
			name: "a probe field the rendering hides",
			mod:  func(p *corev1.PodTemplateSpec) { api(p).LivenessProbe.TerminationGracePeriodSeconds = new(int64(5)) },
			want: []report.Change{{Path: "containers[api].livenessProbe.terminationGracePeriodSeconds", After: "5"}},
		},
		{
			name: "resources",
			mod: func(p *corev1.PodTemplateSpec) {
				api(p).Resources.Limits[corev1.ResourceMemory] = resource.MustParse("256Mi")
				api(p).Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
			},
			want: []report.Change{
				{Path: "containers[api].resources.limits.memory", Before: "512Mi", After: "256Mi"},
				{Path: "containers[api].resources.requests.cpu", After: "250m"},
			},
		},
		{
			name: "volumes and mounts",
			mod: func(p *corev1.PodTemplateSpec) {
				p.Spec.Volumes[0].Secret.SecretName = "tls-v2"
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
				api(p).VolumeMounts[0].ReadOnly = true
			},
			want: []report.Change{
				{Path: "containers[api].volumeMounts[tls].readOnly", After: "true"},
				{Path: "volumes[cache]", After: "emptyDir"},
				{Path: "volumes[tls]", Before: "secret tls-v1", After: "secret tls-v2"},
			},
		},
		{
			name: "a volume field the rendering hides",
			mod:  func(p *corev1.PodTemplateSpec) { p.Spec.Volumes[0].Secret.DefaultMode = new(int32(0o400)) },
			want: []report.Change{{Path: "volumes[tls].secret.defaultMode", After: "256"}},
		},
		{
			name: "init containers",
			mod:  func(p *corev1.PodTemplateSpec) { p.Spec.InitContainers[0].Image = "migrate:v2" },
			want: []report.Change{{Path: "initContainers[migrate].image", Before: "migrate:v1", After: "migrate:v2"}},
		},
		{
			name: "containers added and removed are one row each",
			mod: func(p *corev1.PodTemplateSpec) {
				p.Spec.InitContainers = nil
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", Image: "envoy:1.30",
					Env: []corev1.EnvVar{{Name: "ADMIN_PASSWORD", Value: "x"}}})
			},
			want: []report.Change{
				{Path: "containers[proxy]", After: "image envoy:1.30"},
				{Path: "initContainers[migrate]", Before: "image migrate:v1"},
			},
		},
		{
			name: "scheduling and pod fields",
			mod: func(p *corev1.PodTemplateSpec) {
				p.Spec.NodeSelector = map[string]string{"zone": "a", "disk": "ssd"}
				p.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
				p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
				p.Spec.ServiceAccountName = "api"
				p.Labels["app.kubernetes.io/version"] = "2"
			},
			want: []report.Change{
				{Path: "imagePullSecrets", After: "regcred"},
				{Path: "metadata.labels[app.kubernetes.io/version]", After: "2"},
				{Path: "nodeSelector", After: "disk=ssd,zone=a"},
				{Path: "serviceAccountName", After: "api"},
				{Path: "tolerations", After: "gpu exists:NoSchedule"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(template(nil), template(tc.mod))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff =\n%#v\nwant\n%#v", got, tc.want)
			}
			// The other way round is the same rows with the sides swapped: a rollback undoes
			// exactly what the rollout changed.
			back := Diff(template(tc.mod), template(nil))
			if len(back) != len(tc.want) {
				t.Fatalf("reverse Diff = %#v, want %d rows", back, len(tc.want))
			}
			for i, c := range back {
				if c != (report.Change{Path: tc.want[i].Path, Before: tc.want[i].After, After: tc.want[i].Before}) {
					t.Errorf("reverse row %d = %+v, want %+v swapped", i, c, tc.want[i])
				}
			}
		})
	}
}

func slicesDelete(env []corev1.EnvVar, name string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range env {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return out
}

func TestDiffFirstDeploy(t *testing.T) {
	t.Parallel()
	if d := Diff(nil, template(nil)); d != nil {
		t.Errorf("Diff(nil, t) = %+v, want none: a first deploy has nothing to compare", d)
	}
}

// A changed credential-named literal never shows either value, in either direction.
func TestDiffNeverShowsMaskedValues(t *testing.T) {
	t.Parallel()
	tmpl := func(pw string) *corev1.PodTemplateSpec {
		return template(func(p *corev1.PodTemplateSpec) {
			api(p).Env[1] = corev1.EnvVar{Name: "DB_PASSWORD", Value: pw}
		})
	}
	for _, d := range [][]report.Change{Diff(tmpl("old-pw"), tmpl("new-pw")), Diff(tmpl("new-pw"), tmpl("old-pw"))} {
		want := []report.Change{{Path: "containers[api].env[DB_PASSWORD]", Before: report.MaskedValue, After: report.MaskedValue}}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("Diff = %+v, want %+v", d, want)
		}
		for _, c := range d {
			if strings.Contains(c.Before+c.After, "pw") {
				t.Errorf("a value leaked: %+v", c)
			}
		}
	}
}
