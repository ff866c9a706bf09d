//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 4: every runbook cause the local cluster can stage, judged and diagnosed by the gate
// binary: the cause id, the field or object the finding names, and no Secret value anywhere in
// the report, stdout or stderr. Every pod receives a real Secret value (env API_TOKEN) and, where
// the app gets that far, prints it, so the masking is exercised on real logs.

// stage sets up one scenario in its namespace: the Secrets it creates have distinctive values,
// kept to check that none of them leaks.
type stage struct {
	t      *testing.T
	c      kubernetes.Interface
	ns     string
	values []string
}

// tokenEnv is the variable every scenario's containers receive from Secret app-token.
const tokenEnv = "API_TOKEN"

// secret creates Secret name with the given keys, each with a distinctive random value.
func (s *stage) secret(name string, keys ...string) {
	s.t.Helper()
	data := map[string][]byte{}
	for _, k := range keys {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		v := "s3cr3t-VALUE-" + hex.EncodeToString(b)
		data[k] = []byte(v)
		s.values = append(s.values, v)
	}
	_, err := s.c.CoreV1().Secrets(s.ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("create Secret %s: %v", name, err)
	}
}

// deploy gives every container of d env API_TOKEN from Secret app-token, makes the test app
// print it, and applies d.
func (s *stage) deploy(d *appsv1.Deployment) {
	s.t.Helper()
	if !s.hasToken() {
		s.secret("app-token", "token")
	}
	spec := &d.Spec.Template.Spec
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			list[i].Env = append(list[i].Env, framework.EnvFromSecret(tokenEnv, "app-token", "token"))
			if list[i].Image == framework.TestAppImage {
				list[i].Args = append([]string{"--print-env", tokenEnv}, list[i].Args...)
			}
		}
	}
	framework.Apply(s.t, s.c, d)
}

// deployAPI stages Deployment api of the test app run with args, changed by edit (if not nil).
func deployAPI(edit func(d *appsv1.Deployment), args ...string) func(*stage) {
	return func(s *stage) {
		d := framework.Deployment(s.ns, "api", args...)
		if edit != nil {
			edit(d)
		}
		s.deploy(d)
	}
}

func (s *stage) hasToken() bool {
	_, err := s.c.CoreV1().Secrets(s.ns).Get(context.Background(), "app-token", metav1.GetOptions{})
	return err == nil
}

// diagScenario is one runbook cause staged on the cluster.
type diagScenario struct {
	name  string
	stage func(s *stage)
	args  []string // gate flags besides -n and --workload
	ref   string   // the workload the gate watches; deployment/api when empty
	// What the report must say.
	verdict   report.Verdict
	reason    string // the workload's reason, when it matters
	cause     report.Cause
	container string   // the finding's container, when it names one
	says      []string // in the finding's summary or detail
	change    string   // in the finding's change
	fix       string   // in one of the fix commands
	evidence  string   // in one of the evidence lines
	// printed: the app ran and printed the Secret value, so the report must show the marker.
	printed bool
	check   func(t *testing.T, run gateRun, f report.Finding)
}

// fast keeps each scenario well under a minute: verdicts at the second crash (the default
// tolerance, so the previous container's log is what gets read), short grace periods.
var fast = []string{"--timeout", "60s", "--pending-grace", "8s"}

func TestDiagnose(t *testing.T) {
	t.Parallel()
	t.Cleanup(func() { t.Logf("scenario table:\n%s", diagRows.String()) })
	for _, sc := range diagScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, sc)
		})
	}
}

func diagScenarios() []diagScenario {
	return []diagScenario{
		{
			// The app exits at its env check, before it prints the token: nothing to mask here.
			name: "config-error",
			stage: func(s *stage) {
				withPort := func(port string) *appsv1.Deployment {
					d := framework.Ready(framework.Deployment(s.ns, "api", "--require-int-env", "DATABASE_PORT"))
					d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.Env("DATABASE_PORT", port)}
					return d
				}
				s.deploy(withPort("5432"))
				framework.WaitForDeploymentAvailable(s.t, s.c, s.ns, "api", 2*time.Minute)
				s.deploy(withPort("abc"))
			},
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseConfigError, container: "app",
			says:   []string{"env DATABASE_PORT", `"abc"`},
			change: `DATABASE_PORT changed from "5432" to "abc" in this rollout`,
			fix:    "kubectl set env deployment/api -c app DATABASE_PORT=5432",
			check: func(t *testing.T, run gateRun, f report.Finding) {
				if w := run.workload(t, "deployment/api"); w.Revision != "2" {
					t.Errorf("revision %q, want 2 (the bad one)", w.Revision)
				}
				if f.Logs == nil || !slices.ContainsFunc(f.Logs.Lines, func(l string) bool { return strings.Contains(l, `invalid value for DATABASE_PORT: "abc"`) }) {
					t.Errorf("the log excerpt does not quote the app's FATAL line: %+v", f.Logs)
				}
			},
		},
		{
			name: "missing-secret",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.EnvFromSecret("DB_PASSWORD", "api-db-credentials", "DB_PASSWORD")}
			}),
			verdict: report.VerdictFailed, reason: "CreateContainerConfigError", cause: report.CauseMissingSecret, container: "app",
			says: []string{"Secret {ns}/api-db-credentials does not exist", "env DB_PASSWORD of container app"},
			fix:  "kubectl create secret generic api-db-credentials",
		},
		{
			name: "missing-secret-key",
			stage: func(s *stage) {
				s.secret("api-db-credentials", "DB_USER", "DB_HOST")
				d := framework.Deployment(s.ns, "api")
				d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{
					framework.EnvFromSecret("DB_USER", "api-db-credentials", "DB_USER"),
					framework.EnvFromSecret("DB_PASSWORD", "api-db-credentials", "DB_PASSWORD"),
				}
				s.deploy(d)
			},
			verdict: report.VerdictFailed, reason: "CreateContainerConfigError", cause: report.CauseMissingSecretKey, container: "app",
			says: []string{"key DB_PASSWORD missing from Secret {ns}/api-db-credentials",
				"env DB_PASSWORD of container app reads key DB_PASSWORD of Secret {ns}/api-db-credentials, which has keys DB_HOST, DB_USER"},
			fix: "kubectl patch secret api-db-credentials",
		},
		{
			name: "missing-configmap",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{configMapEnv("LOG_LEVEL", "api-config", "LOG_LEVEL")}
			}),
			verdict: report.VerdictFailed, reason: "CreateContainerConfigError", cause: report.CauseMissingConfigMap, container: "app",
			says: []string{"ConfigMap {ns}/api-config does not exist", "env LOG_LEVEL of container app"},
			fix:  "kubectl create configmap api-config",
		},
		{
			name: "missing-configmap-key",
			stage: func(s *stage) {
				_, err := s.c.CoreV1().ConfigMaps(s.ns).Create(context.Background(), &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: "api-config"}, Data: map[string]string{"LOG_LEVEL": "info", "REGION": "eu"}}, metav1.CreateOptions{})
				if err != nil {
					s.t.Fatal(err)
				}
				d := framework.Deployment(s.ns, "api")
				d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{configMapEnv("FEATURE_FLAGS", "api-config", "FEATURE_FLAGS")}
				s.deploy(d)
			},
			verdict: report.VerdictFailed, reason: "CreateContainerConfigError", cause: report.CauseMissingConfigMapKey, container: "app",
			says: []string{"key FEATURE_FLAGS missing from ConfigMap {ns}/api-config", "which has keys LOG_LEVEL, REGION"},
		},
		{
			// Fails within --pending-grace once the watch judges FailedMount; until then it
			// times out, with the same finding.
			name: "missing-secret-volume",
			stage: deployAPI(func(d *appsv1.Deployment) {
				mountVolume(d, corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: "api-tls", Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"}}}}}, "/etc/tls")
			}),
			verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingSecret, container: "app",
			says: []string{"Secret {ns}/api-tls does not exist, so volume tls cannot be mounted",
				"volume tls (spec.volumes[0].secret.secretName) names Secret {ns}/api-tls", "container app mounts it at /etc/tls (spec.containers[0].volumeMounts[0])"},
			evidence: `MountVolume.SetUp failed for volume "tls" : secret "api-tls" not found`,
			fix:      "create secret generic api-tls",
		},
		{
			name: "missing-configmap-volume",
			stage: deployAPI(func(d *appsv1.Deployment) {
				mountVolume(d, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "api-config"}}}}, "/etc/api")
			}),
			verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingConfigMap, container: "app",
			says: []string{"ConfigMap {ns}/api-config does not exist, so volume config cannot be mounted",
				"volume config (spec.volumes[0].configMap.name) names ConfigMap {ns}/api-config", "(spec.containers[0].volumeMounts[0])"},
			evidence: `configmap "api-config" not found`,
			fix:      `"path":"/spec/template/spec/volumes/0/configMap/optional","value":true`,
		},
		{
			name: "missing-secret-volume/projected-source",
			stage: deployAPI(func(d *appsv1.Deployment) {
				mountVolume(d, corev1.Volume{Name: "creds", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
						{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"},
							Items: []corev1.KeyToPath{{Key: "password", Path: "db-password"}}}},
					}}}}, "/var/run/creds")
			}),
			verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingSecret, container: "app",
			says: []string{"Secret {ns}/db-creds does not exist, so projected volume creds cannot be mounted",
				"(spec.volumes[0].projected.sources[1].secret.name)"},
			fix: "create secret generic db-creds",
		},
		{
			// The kubelet's own words for a key the items name and the Secret lacks:
			// "references non-existent secret key: tls.key" (v1.34).
			name: "missing-secret-key-volume",
			stage: func(s *stage) {
				s.secret("api-tls", "tls.crt")
				d := framework.Deployment(s.ns, "api")
				mountVolume(d, corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: "api-tls", Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"}}}}}, "/etc/tls")
				s.deploy(d)
			},
			verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingSecretKey, container: "app",
			says:     []string{"key tls.key missing from Secret {ns}/api-tls", "volume tls (spec.volumes[0].secret.items[1]) asks for key tls.key", "which has key tls.crt"},
			evidence: "references non-existent secret key: tls.key",
			fix:      "kubectl patch secret api-tls",
		},
		{
			name: "oom-killed",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("", "32Mi")
			}, "--alloc-mb", "200"),
			verdict: report.VerdictFailed, reason: "OOMKilled", cause: report.CauseOOMKilled, container: "app",
			says:     []string{"32Mi memory limit", "limits.memory 32Mi"},
			evidence: "code 137 (OOMKilled)",
			fix:      "--limits=memory=64Mi",
			printed:  true,
		},
		// The dependency scenarios give the app the readiness probe a real service has: it is not
		// ready while it is still connecting to its dependency. Without one, the pod is ready during
		// the dial and, on a loaded node, the soak can end before the second crash.
		{
			name: "dependency-unavailable/service-without-endpoints",
			stage: func(s *stage) {
				createService(s, "postgres", map[string]string{"app": "postgres"}, 5432)
				s.deploy(framework.Ready(framework.Deployment(s.ns, "api", "--dial", "postgres:5432", "--dial-timeout", "2s")))
			},
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseDependency, container: "app",
			says:     []string{"postgres:5432", "Service {ns}/postgres has no ready endpoints"},
			evidence: "Service {ns}/postgres exists",
			printed:  true,
		},
		{
			name: "dependency-unavailable/no-such-service",
			stage: func(s *stage) {
				s.deploy(framework.Ready(framework.Deployment(s.ns, "api", "--dial", "orders-db:5432", "--dial-timeout", "2s")))
			},
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseDependency, container: "app",
			says:    []string{"orders-db:5432", "there is no Service orders-db in namespace {ns}"},
			printed: true,
		},
		{
			name: "liveness-probe/wrong-path",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].LivenessProbe = framework.HTTPProbe("/healthz")
			}),
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe, container: "app",
			says:     []string{"HTTP 404", "/healthz"},
			evidence: "statuscode: 404",
			printed:  true,
		},
		{
			name: "liveness-probe/slow-start",
			stage: deployAPI(func(d *appsv1.Deployment) {
				p := framework.HTTPProbe("/health")
				p.InitialDelaySeconds = 2
				d.Spec.Template.Spec.Containers[0].LivenessProbe = p
			}, "--startup-delay", "30s"),
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe, container: "app",
			says:    []string{"before it finishes starting"},
			fix:     "startupProbe",
			printed: true,
		},
		{
			name:    "readiness-probe",
			stage:   deployAPI(func(d *appsv1.Deployment) { framework.Ready(d) }, "--ready-after", "1h"),
			args:    []string{"--timeout", "150s"},
			verdict: report.VerdictFailed, reason: "ReadinessProbeFailing", cause: report.CauseReadinessProbe, container: "app",
			says:    []string{"never becomes ready", "HTTP 503", "does not restart the container"},
			printed: true,
			check: func(t *testing.T, run gateRun, f report.Finding) {
				w := run.workload(t, "deployment/api")
				for _, s := range []string{w.Reason, w.Message, f.Summary} {
					if strings.Contains(strings.ToLower(s), "crash") {
						t.Errorf("a readiness-only failure was called a crash: %q", s)
					}
				}
			},
		},
		{
			name:    "app-crash/go-panic",
			stage:   deployAPI(nil, "--panic", "assignment to entry in nil map"),
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseAppCrash, container: "app",
			says:     []string{"Go panic", "assignment to entry in nil map", "exit code 2"},
			evidence: "exited with code 2",
			printed:  true,
		},
		{
			name: "app-crash/python-traceback",
			stage: func(s *stage) {
				s.deploy(framework.Deployment(s.ns, "api",
					"--print-stderr", "Traceback (most recent call last):",
					"--print-stderr", `  File "/app/main.py", line 3, in <module>`,
					"--print-stderr", "    from utils.auth import verify",
					"--print-stderr", "ModuleNotFoundError: No module named 'utils.auth'",
					"--exit-code", "1"))
			},
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseAppCrash, container: "app",
			says:    []string{"missing Python module", "No module named 'utils.auth'", "exit code 1"},
			printed: true,
		},
		{
			// The app says why it exits; the log is no mystery.
			name: "app-crash/self-reported",
			stage: func(s *stage) {
				s.deploy(framework.Deployment(s.ns, "api", "--print", "starting worker pool size=4",
					"--print-stderr", "worker pool exhausted, exiting", "--exit-code", "1"))
			},
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseAppCrash, container: "app",
			says:     []string{"exits with code 1: worker pool exhausted, exiting"},
			evidence: "log: worker pool exhausted, exiting",
			printed:  true,
			check:    crashLogRead,
		},
		{
			// Judged at the first crash: the container has not restarted, so its current log is
			// the crash's log and nothing about a previous one is worth saying. (At the default
			// tolerance, the second crash, the first instance is already gone.)
			name: "app-crash/self-reported-first-crash",
			stage: func(s *stage) {
				s.deploy(framework.Deployment(s.ns, "api", "--print", "starting worker pool size=4",
					"--print-stderr", "worker pool exhausted, exiting", "--exit-code", "1"))
			},
			args:    []string{"--crash-tolerance", "0"},
			verdict: report.VerdictFailed, cause: report.CauseAppCrash, container: "app",
			says:    []string{"exits with code 1: worker pool exhausted, exiting"},
			printed: true,
			check:   crashLogRead,
		},
		{
			name: "init-container",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.InitContainers = []corev1.Container{framework.Container("migrate",
					"--print", "running migration 004_add_sessions_table.sql",
					"--print-stderr", `ERROR: relation "users" does not exist`,
					"--exit-code", "1")}
			}),
			verdict: report.VerdictFailed, reason: "Init:CrashLoopBackOff", cause: report.CauseInitContainer, container: "migrate",
			says:    []string{"init container migrate fails (exit 1)", `relation "users" does not exist`},
			fix:     "kubectl logs",
			printed: true,
		},
		{
			name: "image-pull/never-pull",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Image = "rollout-gate/testapp:does-not-exist"
			}),
			verdict: report.VerdictFailed, reason: "ErrImageNeverPull", cause: report.CauseImagePull, container: "app",
			says: []string{"rollout-gate/testapp:does-not-exist", "not on the node", "imagePullPolicy is Never"},
			fix:  "IfNotPresent",
		},
		{
			name: "image-pull/unreachable-registry",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Image = "registry.invalid.example:5000/api:v2"
				d.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
			}),
			// A registry host that does not resolve is final (issue 26): the verdict comes at
			// once, not after --pending-grace, which is set past --timeout here so that a
			// verdict that waited would be a timeout.
			args:    []string{"--pending-grace", "120s"},
			verdict: report.VerdictFailed, cause: report.CauseImagePull, container: "app",
			says: []string{"registry.invalid.example:5000/api:v2", "registry unreachable", "no such host"},
			fix:  "nslookup registry.invalid.example",
			check: func(t *testing.T, run gateRun, f report.Finding) {
				if slices.ContainsFunc(f.Fix, func(l string) bool { return strings.Contains(l, "nslookup registry.invalid.example:") }) {
					t.Errorf("nslookup is given a port: %q", f.Fix)
				}
				if w := run.workload(t, "deployment/api"); strings.Contains(w.Message, "for more than") {
					t.Errorf("a final pull error waited out the grace: %s", w.Message)
				}
			},
		},
		{
			name: "unschedulable",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("1000", "")
			}),
			verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseUnschedulable,
			says: []string{"Insufficient cpu", "not enough allocatable cpu", "cpu 1k"},
			fix:  "--requests=cpu='<lower>'",
		},
		{
			name: "create-denied",
			stage: func(s *stage) {
				q, err := s.c.CoreV1().ResourceQuotas(s.ns).Create(context.Background(), &corev1.ResourceQuota{
					ObjectMeta: metav1.ObjectMeta{Name: "no-pods"},
					Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}},
				}, metav1.CreateOptions{})
				if err != nil {
					s.t.Fatal(err)
				}
				// Until the quota controller has computed its status, admission denies pods for
				// "status unknown": wait for the quota to be in force as written.
				framework.WaitFor(s.t, time.Minute, "ResourceQuota no-pods in force", func(ctx context.Context) (bool, error) {
					q, err = s.c.CoreV1().ResourceQuotas(s.ns).Get(ctx, "no-pods", metav1.GetOptions{})
					_, ok := q.Status.Hard[corev1.ResourcePods]
					return err == nil && ok, err
				})
				s.deploy(framework.Deployment(s.ns, "api"))
			},
			verdict: report.VerdictFailed, reason: "FailedCreate", cause: report.CauseCreateDenied,
			says:     []string{"cannot create pods: ResourceQuota no-pods is exhausted", "pods=1"},
			evidence: "exceeded quota: no-pods",
			fix:      "kubectl describe resourcequota no-pods",
			// A quota may clear when another rollout ends: it still waits out the grace.
			check: func(t *testing.T, run gateRun, _ report.Finding) {
				if w := run.workload(t, "deployment/api"); !strings.Contains(w.Message, "for more than 8s") {
					t.Errorf("a quota denial did not wait out the grace: %s", w.Message)
				}
			},
		},
		{
			// Exit 143 is 128+SIGTERM. No image on this cluster dies of SIGTERM (the test app and
			// pause both handle it), so the app exits with that status itself: the kubelet's view
			// (exitCode 143, reason Error, no probe or OOM on record) is the same.
			name:    "exit-143",
			stage:   deployAPI(nil, "--print", "shutting down workers", "--exit-code", "143"),
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseUnknown, container: "app",
			says:     []string{"SIGTERM (exit 143)", "no OOM kill or probe failure"},
			evidence: "exited with code 143",
			fix:      "handle SIGTERM",
			printed:  true,
		},
	}
}

func runScenario(t *testing.T, sc diagScenario) {
	framework.GateBinary(t) // built before staging, so the time to verdict is the gate's own
	c, ns := framework.Client(t), framework.Namespace(t)
	s := &stage{t: t, c: c, ns: ns}
	sc.stage(s)
	ref := cmp.Or(sc.ref, "deployment/api")
	args := append([]string{"-n", ns, "--workload", ref}, fast...)
	run := runGate(t, append(args, sc.args...)...)
	checkFinding(t, sc, run, ns, ref, s.values)
}

// checkFinding asserts the verdict, the first finding and that no Secret value leaked, and
// records the scenario's line of the table.
func checkFinding(t *testing.T, sc diagScenario, run gateRun, ns, ref string, secrets []string) {
	t.Helper()
	var cause report.Cause = "-"
	defer func() {
		row := fmt.Sprintf("%s: %s %s in %.1fs", sc.name, run.Report.Verdict, cause, run.Duration.Seconds())
		t.Log(row)
		diagRows.add(row)
	}()
	if run.Exit != 1 || run.Report.Verdict != sc.verdict {
		// Go on when there is a report: whether the diagnosis is right is worth knowing too.
		t.Errorf("exit %d verdict %s, want 1 %s\n%s", run.Exit, run.Report.Verdict, sc.verdict, run.Stdout)
		if len(run.Report.Workloads) == 0 {
			t.FailNow()
		}
	}
	w := run.workload(t, ref)
	if sc.reason != "" && w.Reason != sc.reason {
		t.Errorf("workload reason %q (%s), want %q", w.Reason, w.Message, sc.reason)
	}
	if len(w.Findings) == 0 {
		t.Fatalf("no finding\n%s", run.Stdout)
	}
	f := w.Findings[0]
	cause = f.Cause
	if f.Cause != sc.cause {
		t.Fatalf("cause %s, want %s; findings:\n%s\nstdout:\n%s", f.Cause, sc.cause, findingsText(w.Findings), run.Stdout)
	}
	if sc.container != "" && f.Container != sc.container {
		t.Errorf("finding names container %q, want %q", f.Container, sc.container)
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "{ns}", ns) }
	text := f.Summary + "\n" + f.Detail
	for _, want := range sc.says {
		if !strings.Contains(text, expand(want)) {
			t.Errorf("summary/detail do not say %q:\nsummary: %s\ndetail:  %s", expand(want), f.Summary, f.Detail)
		}
	}
	if sc.change != "" && !strings.Contains(f.Change, expand(sc.change)) {
		t.Errorf("change %q, want it to say %q", f.Change, expand(sc.change))
	}
	if sc.fix != "" && !slices.ContainsFunc(f.Fix, func(l string) bool { return strings.Contains(l, expand(sc.fix)) }) {
		t.Errorf("no fix command contains %q:\n%s", expand(sc.fix), strings.Join(f.Fix, "\n"))
	}
	if sc.evidence != "" && !slices.ContainsFunc(f.Evidence, func(l string) bool { return strings.Contains(l, expand(sc.evidence)) }) {
		t.Errorf("no evidence line contains %q:\n%s", expand(sc.evidence), strings.Join(f.Evidence, "\n"))
	}
	if len(f.Evidence) == 0 || len(f.Fix) == 0 {
		t.Errorf("the finding carries %d evidence lines and %d fix commands, want some of each", len(f.Evidence), len(f.Fix))
	}
	// The kubelet's answer for a log it cannot find is not the app's log.
	for _, fd := range w.Findings {
		if fd.Logs != nil && slices.ContainsFunc(fd.Logs.Lines, func(l string) bool { return strings.Contains(l, "unable to retrieve container logs") }) {
			t.Errorf("the kubelet's log error is shown as the app's log: %q", fd.Logs.Lines)
		}
	}
	if f.Logs != nil {
		note := ""
		for _, e := range f.Evidence {
			if strings.HasPrefix(e, "could not read") {
				note = "; " + e
			}
		}
		t.Logf("log excerpt of %s: previous=%t, %d lines%s", f.Logs.Container, f.Logs.Previous, len(f.Logs.Lines), note)
	}
	if sc.check != nil {
		sc.check(t, run, f)
	}
	checkNoSecret(t, run, secrets)
	if sc.printed && !strings.Contains(string(run.raw), "[secret "+tokenEnv+" redacted]") {
		t.Errorf("the app printed %s but the report shows no masked value: was the log read at all?\n%s", tokenEnv, run.raw)
	}
	if framework.Recording() && !t.Failed() {
		framework.RecordFixture(t, framework.Client(t), ns, framework.Expect{
			Scenario: sc.name, Workload: ref, Reason: w.Reason, Cause: string(sc.cause), Container: sc.container})
	}
}

// checkNoSecret fails if any Secret value, plain or base64, shows anywhere the gate wrote.
func checkNoSecret(t *testing.T, run gateRun, values []string) {
	t.Helper()
	if len(values) == 0 {
		t.Fatal("the scenario created no Secret: the leak check would prove nothing")
	}
	for _, v := range values {
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
			for where, out := range map[string]string{"JSON report": string(run.raw), "stdout": run.Stdout, "stderr": run.Stderr} {
				if strings.Contains(out, form) {
					t.Errorf("a Secret value leaked into the %s", where)
				}
			}
		}
	}
}

func findingsText(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s/%s: %s\n    detail: %s\n    evidence: %s\n", f.Cause, f.Pod, f.Container, f.Summary, f.Detail, strings.Join(f.Evidence, " | "))
		if f.Logs != nil {
			fmt.Fprintf(&b, "    logs (previous=%t): %s\n", f.Logs.Previous, strings.Join(f.Logs.Lines, " | "))
		}
	}
	return b.String()
}

// crashLogRead checks that the log excerpt is the crash's and that reading it raised no doubt:
// the instance that crashed last is read, not a previous one the kubelet may have removed.
func crashLogRead(t *testing.T, run gateRun, f report.Finding) {
	for _, e := range f.Evidence {
		if strings.HasPrefix(e, "could not read") {
			t.Errorf("noise in the evidence: %q", e)
		}
	}
	if f.Logs == nil || !slices.Contains(f.Logs.Lines, "worker pool exhausted, exiting") {
		t.Errorf("the log excerpt is not the crash's log: %+v", f.Logs)
	}
}

// mountVolume adds vol to d's pod template and mounts it read-only at path in its first container.
func mountVolume(d *appsv1.Deployment, vol corev1.Volume, path string) {
	spec := &d.Spec.Template.Spec
	spec.Volumes = append(spec.Volumes, vol)
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: path, ReadOnly: true})
}

func configMapEnv(name, cm, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Key: key}}}
}

// createService creates a ClusterIP Service selecting labels, which no pod carries.
func createService(s *stage, name string, selector map[string]string, port int32) {
	s.t.Helper()
	_, err := s.c.CoreV1().Services(s.ns).Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: port, TargetPort: intstr.FromInt32(port)}}},
	}, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("create Service %s: %v", name, err)
	}
}

// TestDiagnoseNodePressure stages runbook FAQ "node-level issue": a node under MemoryPressure.
// The single real node cannot be put under memory pressure, and a pressure taint put on it by
// hand is removed at once by the node lifecycle controller (the node's condition says False).
// So the test registers a second Node whose status reports MemoryPressure=True and which carries
// the taint the controller derives from that condition (the controller keeps it: condition and
// taint agree); the pod is pinned to that node and tolerates its test marker, so the pressure
// taint is the only thing keeping it off. A marker taint no DaemonSet tolerates keeps other tests'
// pods off that node; the test does not run in parallel with the others of this package.
func TestDiagnoseNodePressure(t *testing.T) {
	framework.GateBinary(t)
	c, ns := framework.Client(t), framework.Namespace(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	node := "e2e-pressure-" + hex.EncodeToString(b)
	const marker = "rollout-gate.dev/e2e-fake-node"
	now := metav1.Now()
	_, err := c.CoreV1().Nodes().Create(context.Background(), &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{
			"kubernetes.io/hostname": node, framework.E2ELabel: "true"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "node.kubernetes.io/memory-pressure", Effect: corev1.TaintEffectNoSchedule, TimeAdded: &now},
			{Key: marker, Effect: corev1.TaintEffectNoSchedule},
		}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientMemory",
				Message: "kubelet has insufficient memory available", LastHeartbeatTime: now, LastTransitionTime: now,
			}},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", node, err)
	}
	t.Cleanup(func() {
		if err := c.CoreV1().Nodes().Delete(context.Background(), node, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete node %s: %v (delete it with kubectl delete node %s)", node, err, node)
		}
	})

	s := &stage{t: t, c: c, ns: ns}
	d := framework.Deployment(ns, "api")
	spec := &d.Spec.Template.Spec
	spec.NodeSelector = map[string]string{"kubernetes.io/hostname": node}
	spec.Tolerations = []corev1.Toleration{{Key: marker, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	s.deploy(d)

	run := runGate(t, append([]string{"-n", ns, "--workload", "deployment/api"}, fast...)...)
	checkFinding(t, diagScenario{
		name: "node-pressure", verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseNodePressure,
		says:     []string{"MemoryPressure", "node.kubernetes.io/memory-pressure"},
		evidence: "node " + node + " reports MemoryPressure=True",
		check: func(t *testing.T, run gateRun, f report.Finding) {
			if f.Confidence != report.ConfidenceHigh {
				t.Errorf("confidence %s, want high", f.Confidence)
			}
		},
	}, run, ns, "deployment/api", s.values)
}

// diagRows collects the one-line results of the scenarios for the closing table.
var diagRows rowLog
