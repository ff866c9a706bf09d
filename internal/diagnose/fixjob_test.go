package diagnose

import (
	"strings"
	"testing"
)

// TestJobFixesAreManifestChanges: a Job's pod template cannot be changed in place and kubectl
// rollout does not know Jobs, so no fix for a Job may be a command that tries either; a
// Deployment keeps its commands.
func TestJobFixesAreManifestChanges(t *testing.T) {
	t.Parallel()
	fixes := func(kind, name string) []string {
		ev := &evidence{Kind: kind, Name: name, Namespace: "prod", completes: kind == "Job"}
		out := []string{
			ev.cmdSetEnv("migrate", "DATABASE_PORT", "<value>"),
			ev.cmdSetImage("migrate", "migrate:v1"),
			ev.cmdSetResources("migrate", "--limits=memory=1Gi"),
			ev.cmdJSONPatch(map[string]any{"op": "remove", "path": "/spec/template/spec/containers/0/livenessProbe"}),
			ev.cmdPatch(`{"spec":{"template":{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}}}`),
		}
		out = append(out, ev.cmdRestart()...)
		return append(out, ev.cmdStatus()...)
	}
	job := fixes("Job", "migrate")
	for _, f := range job {
		if !strings.HasPrefix(f, "#") && !strings.HasPrefix(f, "kubectl delete job/migrate") && !strings.HasPrefix(f, "kubectl wait") {
			t.Errorf("Job fix %q is a command that changes the Job in place or uses kubectl rollout", f)
		}
	}
	all := strings.Join(job, "\n")
	for _, want := range []string{
		"# in the Job's manifest, set env DATABASE_PORT='<value>' in container migrate; then re-create the Job",
		"kubectl delete job/migrate -n prod",
		"kubectl wait --for=condition=complete job/migrate -n prod --timeout=5m",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Job fixes lack %q:\n%s", want, all)
		}
	}
	for _, f := range fixes("Deployment", "api") {
		if strings.HasPrefix(f, "#") {
			t.Errorf("Deployment fix %q became a note", f)
		}
	}
}
