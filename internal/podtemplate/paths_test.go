package podtemplate_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/diagnose"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/rollback"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

const ns = "prod"

// rollout is a Deployment at revision 2 whose template changes much of revision 1's: an image,
// a literal, a masked credential, a Secret reference, a probe, a limit, a volume, an init
// container, a sidecar added and one removed.
func rollout() []runtime.Object {
	v1 := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: "migrate:v1"}},
			Containers: []corev1.Container{
				{Name: "api", Image: "api:v1",
					Env: []corev1.EnvVar{{Name: "DATABASE_PORT", Value: "5432"}, {Name: "DB_PASSWORD", Value: "old-pw"},
						{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "keys"}, Key: "api"}}}},
					Resources:     corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
					LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080)}}}},
				{Name: "logger", Image: "fluent-bit:3"},
			},
			Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-v1"}}}},
		},
	}
	v2 := *v1.DeepCopy()
	v2.Spec.InitContainers[0].Image = "migrate:v2"
	api := &v2.Spec.Containers[0]
	api.Image = "api:v2"
	api.Env[0].Value, api.Env[1].Value = "abc", "new-pw"
	api.Env[2].ValueFrom.SecretKeyRef.Name = "keys-v2"
	api.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("256Mi")
	api.LivenessProbe.HTTPGet.Path = "/healthz"
	v2.Spec.Containers[1] = corev1.Container{Name: "proxy", Image: "envoy:1.30"}
	v2.Spec.Volumes[0].Secret.SecretName = "tls-v2"

	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns, UID: "dep-uid", Generation: 2,
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}, Template: v2},
	}
	rs := func(rev string, tmpl corev1.PodTemplateSpec) *appsv1.ReplicaSet {
		tmpl = *tmpl.DeepCopy()
		tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "hash" + rev
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "api-hash" + rev, Namespace: ns, Labels: tmpl.Labels, UID: types.UID("rs-" + rev),
				Annotations: map[string]string{"deployment.kubernetes.io/revision": rev},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "api", UID: "dep-uid",
					Controller: new(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: new(int32), Selector: dep.Spec.Selector, Template: tmpl},
		}
	}
	return []runtime.Object{dep, rs("1", v1), rs("2", v2)}
}

// The report's two template diffs come from one engine: what the diagnosis says this rollout
// changed (revision 1 to 2) and what a rollback of it changes (2 back to 1) are the same rows,
// sides swapped, with the same wording and the same masking.
func TestDiagnosisAndRollbackShowTheSameChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	objs := rollout()
	now := func() time.Time { return time.Date(2026, 4, 4, 8, 20, 0, 0, time.UTC) }

	d := &diagnose.Diagnoser{Client: kubetest.Client(objs...), Now: now}
	diag, err := d.Diagnose(ctx, diagnose.Input{Workload: objs[0], Verdict: report.VerdictFailed, Reason: "CrashLoopBackOff"})
	if err != nil {
		t.Fatal(err)
	}
	r := &rollback.Rollbacker{Client: kubetest.Client(objs...), DryRun: true, Now: now}
	k, _ := workload.Lookup(workload.Deployment)
	rb := r.Undo(ctx, k, report.Ref{Kind: workload.Deployment, Namespace: ns, Name: "api"}, nil)
	if rb.Status != report.RollbackDryRun {
		t.Fatalf("dry-run undo = %+v", rb)
	}

	if len(diag.Changes) < 10 {
		t.Fatalf("diagnosis changes = %+v, want every change of the rollout", diag.Changes)
	}
	swapped := make([]report.Change, len(rb.Changes))
	for i, c := range rb.Changes {
		swapped[i] = report.Change{Path: c.Path, Before: c.After, After: c.Before}
	}
	if !reflect.DeepEqual(diag.Changes, swapped) {
		t.Errorf("diagnosis changes\n%+v\nrollback changes, sides swapped\n%+v", diag.Changes, swapped)
	}
	for _, c := range diag.Changes {
		if c.Path == "containers[api].env[DB_PASSWORD]" && (c.Before != report.MaskedValue || c.After != report.MaskedValue) {
			t.Errorf("DB_PASSWORD = %+v, want %s on both sides", c, report.MaskedValue)
		}
	}
}
