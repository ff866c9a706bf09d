package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/internal/app"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	kubeclient "github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// hostile are payloads a pull request can put in cluster text: each would be a workflow command
// if it reached the runner raw.
const hostile = "::error title=PWNED::PWNED-1\n##[warning]PWNED-2\n::add-mask::PWNED-3 ::set-output name=PWNED::x ##[set-env name=PWNED]y"

// hostileCluster is a failed Deployment whose condition message and events carry payloads.
func hostileCluster(t *testing.T) kubernetes.Interface {
	t.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod", Generation: 2, UID: types.UID("uid-api"),
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:v2"}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
				Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet \"api-2\" has timed out progressing.\n" + hostile}}},
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "api.1", Namespace: "prod"},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "api", Namespace: "prod"},
		Type:           corev1.EventTypeWarning, Reason: "Hostile", Message: hostile, Count: 1,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now()}
	// The deployment controller's ReplicaSet for the current template.
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-2", Namespace: "prod",
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": "2"},
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "api", UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: d.Spec.Template}}
	return fake.NewClientset(d, rs, ev)
}

// TestActionsOutputCarriesOnlyGateCommands runs the gate in Actions mode against a cluster whose
// text is full of workflow commands, in every output format and on error paths, and reads stdout
// and stderr as the runner would: every command found must be one the gate wrote itself.
func TestActionsOutputCarriesOnlyGateCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"json report", []string{"--workload", "deploy/api", "-o", "json"}, 1},
		{"text report", []string{"--workload", "deploy/api"}, 1},
		{"bad selector", []string{"-l", "app in (" + hostile}, 2},
		{"hostile manifest name", []string{"-f", "MANIFEST"}, 2},
		{"hostile workload name", []string{"--workload", "deploy/" + hostile}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			manifest := filepath.Join(dir, "app.yaml")
			if err := os.WriteFile(manifest, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"api ##[error]PWNED\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--timeout", "20s", "--comment", "never"}, tt.args...)
			for i, a := range args {
				if a == "MANIFEST" {
					args[i] = manifest
				}
			}
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out"),
				"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "GITHUB_WORKSPACE": dir,
				"INPUT_GITHUB-TOKEN": "ghs_token"}
			client := hostileCluster(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string { return vars[k] }, now: time.Now,
				connect: func(*app.Options, func(string) string) (kubeclient.Interface, string, error) {
					return kubetest.Wrap(client), "prod", nil
				}})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), "PWNED") {
				t.Fatalf("the payload is not in the output at all, so the test proves nothing:\n%s\n%s", stdout.String(), stderr.String())
			}
			for stream, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				for _, c := range githubtest.Commands(out) {
					own := !c.Legacy && (c.Name == "add-mask" || c.Name == "warning" || c.Name == "notice" ||
						c.Name == "error" || c.Name == "stop-commands" || c.Name == "resume")
					if !own || strings.Contains(c.Properties+" "+c.Message, "PWNED") || stream == "stderr" {
						t.Errorf("%s carries a command the gate did not write: %q", stream, c.Line)
					}
				}
			}
		})
	}
}
