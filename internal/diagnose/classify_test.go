package diagnose

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// classifyCase is one recorded failure and what the diagnosis must say about it.
type classifyCase struct {
	name    string
	fixture string
	reason  string            // the watch's verdict reason; CrashLoopBackOff if empty
	logs    map[string]string // overrides of the fixture's recorded logs
	// editInput changes the fixture's input before gathering; editEvidence changes what was
	// gathered (such cases only run through classify, not the whole Diagnose).
	editInput    func(*Input)
	editEvidence func(*evidence)
	want         want
}

type want struct {
	cause      report.Cause
	pod        string
	container  string
	confidence report.Confidence
	summary    []string // substrings of Summary
	notSummary []string
	detail     []string
	evidence   []string // substrings that some evidence line must contain
	noEvidence []string // substrings no evidence line may contain
	fix        []string // exact fix lines that must be present
	fixHas     []string // substrings some fix line must contain
	change     string   // exact Change; "-" means none
	logs       bool     // a log excerpt is attached
	findings   int      // number of findings (default 1)
}

func classifyCases() []classifyCase {
	return []classifyCase{
		{
			name: "config error: invalid value changed in this rollout", fixture: "config-error", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseConfigError, pod: "api-7d4b9c-xkp2z", container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"env DATABASE_PORT has an invalid value", `"abc"`},
				detail:   []string{`env DATABASE_PORT of container api is "abc"`},
				evidence: []string{`FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`, "last exited with code 1 (Error)", "restarted 4 times"},
				change:   `DATABASE_PORT changed from "5432" to "abc" in this rollout`,
				fix: []string{
					"kubectl logs api-7d4b9c-xkp2z -c api --previous -n production",
					"kubectl set env deployment/api -c api DATABASE_PORT=5432 -n production",
					"kubectl rollout status deployment/api -n production",
					"kubectl rollout undo deployment/api -n production",
				},
				logs: true,
			},
		},
		{
			name: "config error: Go panic on a variable that is not set (exit 2)", fixture: "config-error", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "panic: DATABASE_URL environment variable is not set\n\ngoroutine 1 [running]:\nmain.mustGetEnv(...)\n\t/app/main.go:22 +0x5a\n"},
			want: want{
				cause: report.CauseConfigError, container: "api",
				summary: []string{"env DATABASE_URL is not set"},
				detail:  []string{"declares no env DATABASE_URL"},
				fix:     []string{"kubectl set env deployment/api -c api DATABASE_URL='<value>' -n production"},
				change:  "-", logs: true,
			},
		},
		{
			name: "missing secret", fixture: "missing-secret", reason: "CreateContainerConfigError",
			want: want{
				cause: report.CauseMissingSecret, container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"Secret production/api-db-credentials does not exist"},
				detail:   []string{"env DB_USER and env DB_PASSWORD of container api read Secret production/api-db-credentials, which does not exist"},
				evidence: []string{`CreateContainerConfigError: secret "api-db-credentials" not found`, "Warning Failed (x4)"},
				fix: []string{
					"kubectl get secrets -n production",
					"kubectl create secret generic api-db-credentials --from-literal=DB_USER='<value>' --from-literal=DB_PASSWORD='<value>' -n production",
					"kubectl rollout status deployment/api -n production",
				},
				change: "-",
			},
		},
		{
			name: "missing secret key", fixture: "missing-secret-key", reason: "CreateContainerConfigError",
			want: want{
				cause: report.CauseMissingSecretKey, container: "api", confidence: report.ConfidenceHigh,
				summary: []string{"key DB_PASSWORD missing from Secret production/api-db-credentials"},
				detail:  []string{"env DB_PASSWORD of container api reads key DB_PASSWORD of Secret production/api-db-credentials, which has keys DB_HOST, DB_USER"},
				fixHas:  []string{`kubectl patch secret api-db-credentials -n production --type=merge -p '{"stringData":{"DB_PASSWORD":"<value>"}}'`},
				change:  "-",
			},
		},
		{
			name: "missing configmap", fixture: "missing-configmap", reason: "CreateContainerConfigError",
			want: want{
				cause: report.CauseMissingConfigMap, container: "api",
				summary: []string{"ConfigMap production/app-config does not exist"},
				detail:  []string{"env LOG_LEVEL of container api reads ConfigMap production/app-config, which does not exist"},
				fix:     []string{"kubectl create configmap app-config --from-literal=LOG_LEVEL='<value>' -n production"},
				change:  "-",
			},
		},
		{
			name: "missing configmap key, with a near miss", fixture: "missing-configmap-key", reason: "CreateContainerConfigError",
			want: want{
				cause: report.CauseMissingConfigMapKey, container: "api",
				summary: []string{"key LOG_LEVEL missing from ConfigMap production/app-config"},
				detail:  []string{"env LOG_LEVEL of container api reads key LOG_LEVEL of ConfigMap production/app-config, which has keys FEATURE_X, log_level (did you mean log_level?)"},
				fix:     []string{`kubectl patch configmap app-config -n production --type=merge -p '{"data":{"LOG_LEVEL":"<value>"}}'`},
				change:  "-",
			},
		},
		{
			name: "missing secret behind a volume, renamed in this rollout", fixture: "missing-secret-volume", reason: "ProgressDeadlineExceeded",
			want: want{
				cause: report.CauseMissingSecret, pod: "web-5f8bb-r9t4k", container: "nginx",
				summary:  []string{"Secret production/web-tls does not exist", "so volume tls cannot be mounted and container nginx cannot start"},
				detail:   []string{"volume tls (spec.volumes[0].secret.secretName) names Secret production/web-tls, which does not exist; container nginx mounts it at /etc/tls (spec.containers[0].volumeMounts[0])"},
				evidence: []string{`Warning FailedMount (x7) on pod/web-5f8bb-r9t4k: MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found`, "pod web-5f8bb-r9t4k is Pending; container nginx is waiting in ContainerCreating"},
				change:   "volume tls changed from secret api-tls-cert to secret web-tls in this rollout",
				// Substrings that do not depend on how the words are quoted.
				fixHas: []string{
					"create secret generic web-tls",
					`"op":"replace","path":"/spec/template/spec/volumes/0/secret/secretName","value":"api-tls-cert"`,
					`"op":"add","path":"/spec/template/spec/volumes/0/secret/optional","value":true`,
				},
				fix: []string{"kubectl rollout status deployment/web -n production", "kubectl rollout undo deployment/web -n production"},
			},
		},
		{
			name: "missing secret behind a projected volume source", fixture: "missing-volume", reason: "FailedMount",
			want: want{
				cause: report.CauseMissingSecret, pod: "api-6c9f8-k2x7p", container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"Secret production/db-creds does not exist, so projected volume creds cannot be mounted and container api cannot start"},
				detail:   []string{"projected volume creds (spec.volumes[3].projected.sources[1].secret.name) names Secret production/db-creds, which does not exist; its items name key password; container api mounts it at /var/run/creds (spec.containers[1].volumeMounts[2])"},
				evidence: []string{`Warning FailedMount (x5) on pod/api-6c9f8-k2x7p: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found`, "container api is waiting in ContainerCreating"},
				fixHas: []string{
					"create secret generic db-creds", "--from-literal=password=",
					`"op":"replace","path":"/spec/template/spec/volumes/3/projected/sources/1/secret/name","value":"<name>"`,
					`"op":"add","path":"/spec/template/spec/volumes/3/projected/sources/1/secret/optional","value":true`,
				},
				fix:    []string{"kubectl rollout status deployment/api -n production"},
				change: "-",
			},
		},
		{
			name: "missing configmap behind a projected volume source", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: mountEvents(`MountVolume.SetUp failed for volume "creds" : configmap "ca-bundle" not found`),
			want: want{
				cause: report.CauseMissingConfigMap, container: "api",
				summary:  []string{"ConfigMap production/ca-bundle does not exist, so projected volume creds cannot be mounted"},
				detail:   []string{"projected volume creds (spec.volumes[3].projected.sources[2].configMap.name) names ConfigMap production/ca-bundle"},
				evidence: []string{`configmap "ca-bundle" not found`},
				fixHas: []string{
					"create configmap ca-bundle",
					`"op":"add","path":"/spec/template/spec/volumes/3/projected/sources/2/configMap/optional","value":true`,
				},
				change: "-",
			},
		},
		{
			name: "missing configmap volume key, with a near miss", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: mountEvents(`MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: app.yaml`),
			want: want{
				cause: report.CauseMissingConfigMapKey, container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"key app.yaml missing from ConfigMap production/app-config, so volume cfg cannot be mounted and container api cannot start"},
				detail:   []string{"volume cfg (spec.volumes[2].configMap.items[0]) asks for key app.yaml of ConfigMap production/app-config, which has key app.yml (did you mean app.yml?); container api mounts it at /etc/api (spec.containers[1].volumeMounts[1])"},
				evidence: []string{"Warning FailedMount (x3) on pod/api-6c9f8-k2x7p: MountVolume.SetUp failed for volume \"cfg\" : configmap references non-existent config key: app.yaml"},
				fixHas: []string{
					"get configmap app-config", "{{range $k, $v := .data}}{{$k}}",
					`patch configmap app-config`, `{"data":{"app.yaml":"<value>"}}`,
					`"op":"replace","path":"/spec/template/spec/volumes/2/configMap/items/0/key","value":"app.yml"`,
					`"op":"add","path":"/spec/template/spec/volumes/2/configMap/optional","value":true`,
				},
				change: "-",
			},
		},
		{
			name: "missing secret volume key, mounted by two containers", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: mountEvents(`MountVolume.SetUp failed for volume "tls" : references non-existent secret key: tls.key`),
			want: want{
				cause: report.CauseMissingSecretKey, container: "proxy",
				summary: []string{"key tls.key missing from Secret production/web-tls, so volume tls cannot be mounted and the pod's containers cannot start"},
				detail: []string{"volume tls (spec.volumes[1].secret.items[1]) asks for key tls.key of Secret production/web-tls, which has key tls.crt",
					"container proxy mounts it at /etc/envoy/tls (spec.containers[0].volumeMounts[0]); container api mounts it at /etc/tls (spec.containers[1].volumeMounts[3])"},
				fixHas: []string{"patch secret web-tls", "tls.key", `"op":"add","path":"/spec/template/spec/volumes/1/secret/optional","value":true`},
				change: "-",
			},
		},
		{
			name: "missing secret volume key, as the env message words it", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: mountEvents(`MountVolume.SetUp failed for volume "tls" : couldn't find key tls.key in Secret production/web-tls`),
			want: want{
				cause: report.CauseMissingSecretKey, container: "proxy",
				detail: []string{"volume tls (spec.volumes[1].secret.items[1]) asks for key tls.key"},
				change: "-",
			},
		},
		{
			name: "a generic mount timeout listed first does not hide the missing Secret", fixture: "missing-volume", reason: "ProgressDeadlineExceeded",
			editEvidence: mountEvents(
				"Unable to attach or mount volumes: unmounted volumes=[creds], unattached volumes=[tmp cfg creds tls kube-api-access-x7k2p]: timed out waiting for the condition",
				`MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found`),
			want: want{
				cause: report.CauseMissingSecret, container: "api",
				summary:    []string{"Secret production/db-creds does not exist"},
				notSummary: []string{"timed out", "cannot be mounted, so its containers never start"},
				change:     "-",
			},
		},
		{
			name: "events unreadable: the watch's FailedMount message names the Secret", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: func(ev *evidence) {
				ev.Events = nil
				ev.Secrets["web-tls"].Keys = []string{"tls.crt", "tls.key"}
				ev.ConfigMaps["app-config"].Keys = []string{"app.yaml"}
				ev.Message = `pod api-6c9f8-k2x7p: a volume cannot be mounted for more than 8s: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found`
			},
			want: want{
				cause: report.CauseMissingSecret, container: "api",
				summary:  []string{"Secret production/db-creds does not exist"},
				evidence: []string{`the watch saw FailedMount: pod api-6c9f8-k2x7p: a volume cannot be mounted for more than 8s: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found`},
				change:   "-",
			},
		},
		{
			name: "no event names the volume: the gathered objects do", fixture: "missing-volume", reason: "ProgressDeadlineExceeded",
			editEvidence: mountEvents("Unable to attach or mount volumes: unmounted volumes=[cfg], unattached volumes=[tmp cfg creds tls]: timed out waiting for the condition"),
			want: want{
				cause: report.CauseMissingSecretKey, container: "proxy",
				summary: []string{"key tls.key missing from Secret production/web-tls"},
				change:  "-",
			},
		},
		{
			name: "the kubelet's cache has not synced: the volume it names is checked first", fixture: "missing-volume", reason: "FailedMount",
			editEvidence: mountEvents(`MountVolume.SetUp failed for volume "creds" : failed to sync configmap cache: timed out waiting for the condition`),
			want: want{
				cause: report.CauseMissingConfigMap, container: "api",
				summary:  []string{"ConfigMap production/ca-bundle does not exist, so projected volume creds cannot be mounted"},
				evidence: []string{`Warning FailedMount (x3) on pod/api-6c9f8-k2x7p: MountVolume.SetUp failed for volume "creds" : failed to sync configmap cache: timed out waiting for the condition`},
				change:   "-",
			},
		},
		{
			name: "an optional source that is missing is not the cause", fixture: "missing-volume", reason: "ProgressDeadlineExceeded",
			editEvidence: func(ev *evidence) {
				mountEvents("Unable to attach or mount volumes: unmounted volumes=[data]: timed out waiting for the condition")(ev)
				yes := true
				for _, spec := range []*corev1.PodSpec{&ev.Template.Spec, &ev.Pods[0].Spec} {
					spec.Volumes[1].Secret.Optional = &yes
					spec.Volumes[2].ConfigMap.Optional = &yes
					spec.Volumes[3].Projected.Sources[1].Secret.Optional = &yes
					spec.Volumes[3].Projected.Sources[2].ConfigMap.Optional = &yes
				}
			},
			want: want{
				cause: report.CauseUnknown, container: "-",
				summary: []string{"a volume of the pod cannot be mounted"},
				detail:  []string{"timed out waiting for the condition"},
			},
		},
		{
			name: "OOMKilled after the limit was lowered", fixture: "oom-killed", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseOOMKilled, container: "worker", confidence: report.ConfidenceHigh,
				summary:  []string{"killed by the OOM killer", "256Mi memory limit"},
				detail:   []string{"limits.memory 256Mi, requests.memory 128Mi"},
				evidence: []string{"last exited with code 137 (OOMKilled) after running 43s: SIGKILL by the kernel OOM killer", "seen in 2 of 2 pods of this revision"},
				change:   "memory limit of container worker changed from 1Gi to 256Mi in this rollout",
				fix: []string{
					"kubectl top pod worker-5f8bb-r9t4k --containers -n production",
					"kubectl set resources deployment/worker -c worker --limits=memory=1Gi -n production",
				},
				logs: true,
			},
		},
		{
			name: "OOMKilled, then a second kill the runtime did not flag", fixture: "oom-killed", reason: "OOMKilled",
			editEvidence: func(ev *evidence) {
				for i := range ev.Pods {
					cs := &ev.Pods[i].Status.ContainerStatuses[0]
					cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
				}
			},
			want: want{
				cause: report.CauseOOMKilled, container: "worker", confidence: report.ConfidenceHigh,
				summary: []string{"killed by the OOM killer", "256Mi memory limit"},
				// Said once: the OOM kill, then what the plain 137 after it is; never the meaning
				// of a lone 137, which would contradict it.
				evidence:   []string{"code 137 (OOMKilled)", "is the same OOM kill again", "did not flag as OOMKilled"},
				noEvidence: []string{"not OOMKilled", "killed from outside"},
				change:     "memory limit of container worker changed from 1Gi to 256Mi in this rollout",
				logs:       true,
			},
		},
		{
			name: "dependency crashing behind its Service", fixture: "dependency", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseDependency, container: "api", confidence: report.ConfidenceHigh,
				summary: []string{"cannot reach its dependency postgres-service.production.svc.cluster.local:5432 (connection refused)", "its pod postgres-0 is failing (CrashLoopBackOff"},
				detail:  []string{"env DATABASE_HOST of container api is"},
				evidence: []string{
					"dial tcp 10.96.0.45:5432: connect: connection refused",
					"Service production/postgres-service exists (type ClusterIP, ports 5432/TCP, selector app=postgres)",
					"0 ready endpoints, 1 not ready",
					"its pod postgres-0: CrashLoopBackOff, last exit 1, 5 restarts",
					"no NetworkPolicies in namespace production",
				},
				fix:    []string{"kubectl logs postgres-0 --previous -n production"},
				change: "-", logs: true,
			},
		},
		{
			name: "dependency: no such host and no Service", fixture: "dependency", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "redis: dial tcp: lookup redis-cache on 10.96.0.10:53: no such host\n"},
			want: want{
				cause: report.CauseDependency, container: "api",
				summary:  []string{"cannot reach its dependency redis-cache (no such host): there is no Service redis-cache in namespace production"},
				evidence: []string{"no Service redis-cache in namespace production"},
				fix:      []string{"kubectl get services -n production"},
				change:   "-", logs: true,
			},
		},
		{
			name: "liveness probe on a path that does not exist (exit 0 after SIGTERM)", fixture: "liveness-probe", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseLivenessProbe, container: "api", confidence: report.ConfidenceHigh,
				summary:    []string{"the liveness probe kills container api: http-get :8080/healthz answers HTTP 404"},
				notSummary: []string{"OOM"},
				detail:     []string{"livenessProbe of container api: http-get :8080/healthz delay=5s timeout=1s period=10s #success=1 #failure=3"},
				evidence: []string{
					"Warning Unhealthy (x9) on pod/api-7d4b9c-xkp2z: Liveness probe failed: HTTP probe failed with statuscode: 404",
					"Normal Killing (x3) on pod/api-7d4b9c-xkp2z: Container api failed liveness probe, will be restarted",
					"this is a probe kill, not a crash or an OOM",
				},
				change: "livenessProbe of container api changed from http-get :8080/health delay=5s timeout=1s period=10s #success=1 #failure=3 to http-get :8080/healthz delay=5s timeout=1s period=10s #success=1 #failure=3 in this rollout",
				fix: []string{
					"kubectl exec api-7d4b9c-xkp2z -c api -n production -- wget -qO- http://localhost:8080/health",
					`kubectl patch deployment/api -n production --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/livenessProbe/httpGet/path","value":"/health"}]'`,
					"kubectl rollout undo deployment/api -n production",
				},
				logs: true,
			},
		},
		{
			name: "liveness probe kills a slow starter (137, not OOM)", fixture: "liveness-slow", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseLivenessProbe, container: "api",
				summary:  []string{"before it finishes starting", "never reported listening"},
				detail:   []string{"initialDelaySeconds 5 + failureThreshold 3 × periodSeconds 10 + timeoutSeconds 1 = 36s, and there is no startupProbe"},
				evidence: []string{"exit 137 without OOMKilled", "the previous instance ran 36s and never logged that it was listening"},
				fixHas:   []string{`"op":"add","path":"/spec/template/spec/containers/0/startupProbe","value":{"failureThreshold":30,"httpGet":{"path":"/health","port":8080},"periodSeconds":5}`},
				change:   "-", logs: true,
			},
		},
		{
			name: "liveness probe: start-up time stated in the log", fixture: "liveness-slow", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "INFO server listening on :8080 after 90s startup\n"},
			want: want{
				cause: report.CauseLivenessProbe, container: "api",
				summary:  []string{"start-up takes about 1m30s, the probe allows about 36s"},
				evidence: []string{"observed start-up: 1m30s (INFO server listening on :8080 after 90s startup)", "longer than initialDelaySeconds 5"},
				fixHas:   []string{`"failureThreshold":36`},
				change:   "-", logs: true,
			},
		},
		{
			name: "liveness kill without the Killing event (expired): failures and exit 137 suffice", fixture: "liveness-slow", reason: "CrashLoopBackOff",
			editEvidence: func(ev *evidence) {
				ev.Events = slices.DeleteFunc(ev.Events, func(e corev1.Event) bool { return e.Reason == "Killing" })
			},
			want: want{
				cause: report.CauseLivenessProbe, container: "api", confidence: report.ConfidenceMedium,
				summary: []string{"the liveness probe kills container api before it finishes starting"},
				change:  "-", logs: true,
			},
		},
		{
			name: "readiness probe only: not a crash loop", fixture: "readiness-probe", reason: "ReadinessTimeout",
			want: want{
				cause: report.CauseReadinessProbe, container: "api", confidence: report.ConfidenceHigh,
				summary:    []string{"runs but never becomes ready", "readiness probe http-get :8080/ready fails (HTTP 503)"},
				notSummary: []string{"crash", "CrashLoop"},
				detail:     []string{"does not restart the container"},
				evidence:   []string{"Readiness probe failed: HTTP probe failed with statuscode: 503", "with 0 restarts and is not ready"},
				fix:        []string{"kubectl exec api-7d4b9c-xkp2z -c api -n production -- wget -qO- http://localhost:8080/ready"},
				change:     "-", logs: true,
			},
		},
		{
			name: "readiness stall judged by the watch: no age rule of its own", fixture: "readiness-probe", reason: "ReadinessProbeFailing",
			editEvidence: func(ev *evidence) {
				// Started 20 s ago: under the diagnosis's own 30 s rule this would be no finding.
				ev.Pods[0].Status.ContainerStatuses[0].State.Running.StartedAt.Time = ev.Now.Add(-20 * time.Second)
			},
			want: want{
				cause: report.CauseReadinessProbe, container: "api", confidence: report.ConfidenceHigh,
				summary: []string{"runs but never becomes ready", "(HTTP 503)"}, change: "-", logs: true,
			},
		},
		{
			name: "readiness flapping: ready at the moment, its probe keeps failing", fixture: "readiness-probe", reason: "ReadinessFlapping",
			editEvidence: func(ev *evidence) { ev.Pods[0].Status.ContainerStatuses[0].Ready = true },
			want: want{
				cause: report.CauseReadinessProbe, container: "api", confidence: report.ConfidenceHigh,
				summary: []string{"keeps turning NotReady while it runs", "(HTTP 503)"}, notSummary: []string{"never becomes ready"}, change: "-", logs: true,
			},
		},
		{
			name: "app crash: Python module missing after an image change", fixture: "app-crash", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseAppCrash, container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"crashes at start-up (missing Python module): ModuleNotFoundError: No module named 'utils.auth'"},
				evidence: []string{"last exited with code 1 (Error)"},
				change:   "image of container api changed from registry.example.com/api:v1.2.1 to registry.example.com/api:v1.2.2 in this rollout",
				fix: []string{
					"kubectl logs api-9a0b1c-q7w8e -c api --previous -n production",
					"kubectl set image deployment/api api=registry.example.com/api:v1.2.1 -n production",
					"kubectl rollout undo deployment/api -n production",
				},
				logs: true,
			},
		},
		{
			name: "app crash: missing shared library", fixture: "app-crash", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-9a0b1c-q7w8e/api": "/app/server: error while loading shared libraries: libssl.so.3: cannot open shared object file: No such file or directory\n"},
			want: want{
				cause: report.CauseAppCrash, container: "api",
				summary: []string{"(missing shared library)", "libssl.so.3"},
				change:  "image of container api changed from registry.example.com/api:v1.2.1 to registry.example.com/api:v1.2.2 in this rollout",
				logs:    true,
			},
		},
		{
			name: "init container failure", fixture: "init-container", reason: "Init:CrashLoopBackOff",
			want: want{
				cause: report.CauseInitContainer, container: "init-migrate", confidence: report.ConfidenceHigh,
				summary:  []string{"init container init-migrate fails (exit 1), so the pod never starts its app containers", `ERROR: relation "users" does not exist`},
				evidence: []string{"init container init-migrate previous log: ERROR: relation \"users\" does not exist"},
				fix: []string{
					"kubectl logs api-7d4b9c-xkp2z -c init-migrate --previous -n production",
					"kubectl rollout restart deployment/api -n production",
				},
				change: "-", logs: true,
			},
		},
		{
			name: "image pull: tag not found after an image change", fixture: "image-pull", reason: "ImagePullBackOff",
			want: want{
				cause: report.CauseImagePull, container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"image registry.example.com/api:v9 of container api cannot be pulled: not found"},
				detail:   []string{"the registry has no such image or tag"},
				evidence: []string{"Warning Failed (x3)", "registry.example.com/api:v9: not found"},
				change:   "image of container api changed from registry.example.com/api:v1.2.1 to registry.example.com/api:v9 in this rollout",
				fix:      []string{"kubectl set image deployment/api api=registry.example.com/api:v1.2.1 -n production"},
			},
		},
		{
			name: "unschedulable: insufficient memory after the request was raised", fixture: "unschedulable", reason: "Unschedulable",
			want: want{
				cause: report.CauseUnschedulable, pod: "api-3b-xkp2z", container: "-",
				summary:  []string{"no node can run the pod: 0/3 nodes are available: 3 Insufficient memory"},
				detail:   []string{"not enough allocatable memory on any node for the pod's requests (cpu 250m, memory 64Gi)"},
				evidence: []string{"PodScheduled=False Unschedulable", "Warning FailedScheduling (x12)"},
				change:   "memory request of container api changed from 1Gi to 64Gi in this rollout",
				fix:      []string{"kubectl set resources deployment/api -c api --requests=memory='<lower>' -n production"},
			},
		},
		{
			name: "unknown StorageClass: the claim never binds", fixture: "unknown-storageclass", reason: "Unschedulable",
			want: want{
				cause: report.CauseMissingStorageClass, pod: "api-3b-xkp2z", container: "-", confidence: report.ConfidenceHigh,
				summary: []string{"StorageClass fast-ssd does not exist, so PersistentVolumeClaim production/api-data never binds"},
				detail: []string{"volume data (spec.volumes[0]) uses PersistentVolumeClaim production/api-data, whose spec.storageClassName is fast-ssd",
					"the cluster has StorageClasses premium-rwo, standard (default)"},
				evidence: []string{"PodScheduled=False Unschedulable: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims",
					"PersistentVolumeClaim production/api-data is Pending with storageClassName fast-ssd",
					`Warning ProvisioningFailed (x40) on persistentvolumeclaim/api-data: storageclass.storage.k8s.io "fast-ssd" not found`,
					"StorageClasses in the cluster: premium-rwo, standard (default)"},
				fix: []string{"kubectl get storageclass", "kubectl get pvc api-data -o yaml -n production",
					"# a claim's storageClassName cannot be changed: delete the claim and apply it again with storageClassName standard (or create StorageClass fast-ssd):",
					"kubectl delete pvc api-data -n production"},
				change: "volume data was added in this rollout (persistentVolumeClaim api-data)",
			},
		},
		{
			name: "unknown StorageClass: classes not readable, the PV controller says it", fixture: "unknown-storageclass", reason: "Unschedulable",
			editEvidence: func(ev *evidence) { ev.Classes, ev.ClassesErr = nil, "forbidden" },
			want: want{
				cause: report.CauseMissingStorageClass, container: "-",
				detail:   []string{"the gate could not list the StorageClasses (forbidden); the PV controller says it does not exist"},
				evidence: []string{"could not list StorageClasses: forbidden", `storageclass.storage.k8s.io "fast-ssd" not found`},
				fixHas:   []string{"apply it again with storageClassName '<storage class>'"},
				change:   "volume data was added in this rollout (persistentVolumeClaim api-data)",
			},
		},
		{
			name: "unbound claim whose class exists: no StorageClass finding", fixture: "unknown-storageclass", reason: "Unschedulable",
			editEvidence: func(ev *evidence) { ev.Classes = append(ev.Classes, storageClass{Name: "fast-ssd"}) },
			want: want{
				cause: report.CauseUnschedulable, container: "-",
				detail: []string{"a PersistentVolumeClaim of the pod is not bound"},
				fix:    []string{"kubectl get pvc -n production"},
				change: "-",
			},
		},
		{
			name: "node pressure: the disk-pressure taint keeps the pod off the node", fixture: "node-pressure", reason: "Unschedulable",
			want: want{
				cause: report.CauseNodePressure, container: "-",
				summary:  []string{"under DiskPressure"},
				detail:   []string{"node.kubernetes.io/disk-pressure"},
				evidence: []string{"node node-1 reports DiskPressure=True"},
				fix:      []string{"kubectl describe node node-1"},
				fixHas:   []string{"free disk on the node"},
				change:   "-",
			},
		},
		{
			name: "node pressure: pod evicted for memory", fixture: "evicted", reason: "Evicted",
			want: want{
				cause: report.CauseNodePressure, container: "-",
				summary:  []string{"node node-1 is under MemoryPressure"},
				evidence: []string{"node node-1 condition MemoryPressure=True", "pod status Evicted: The node was low on resource: memory", "node node-1 taint node.kubernetes.io/memory-pressure:NoSchedule"},
				fix:      []string{"kubectl get pods -A --field-selector spec.nodeName=node-1"},
				change:   "-",
			},
		},
		{
			name: "create denied: quota exhausted", fixture: "create-denied", reason: "FailedCreate",
			want: want{
				cause: report.CauseCreateDenied, container: "-",
				summary:  []string{"replicaset/api-7d4b9c cannot create pods: ResourceQuota compute-quota is exhausted"},
				detail:   []string{"requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi"},
				evidence: []string{"Deployment condition ReplicaFailure=True FailedCreate", "Warning FailedCreate (x14) on replicaset/api-7d4b9c"},
				fix:      []string{"kubectl describe resourcequota compute-quota -n production"},
				change:   "-",
			},
		},
		{
			name: "unknown: exit 1 with an empty log says so plainly", fixture: "unknown", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseUnknown, container: "api", confidence: report.ConfidenceLow,
				summary:  []string{"keeps exiting with code 1 and its log does not say why"},
				detail:   []string{"its log is empty"},
				evidence: []string{"last exited with code 1 (Error)", "restarted 3 times"},
				fix:      []string{"kubectl logs api-7d4b9c-xkp2z -c api --previous -n production"},
				change:   "-",
			},
		},
		{
			name: "app crash: the app says why it exits in its last line (exit 1)", fixture: "unknown", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "2026-04-04T08:15:00Z INFO starting worker pool size=4\n2026-04-04T08:15:00Z   \n2026-04-04T08:15:00Z worker pool exhausted, exiting   \n"},
			want: want{
				cause: report.CauseAppCrash, container: "api", confidence: report.ConfidenceHigh,
				summary:    []string{"container api exits with code 1: worker pool exhausted, exiting"},
				notSummary: []string{"does not say why", "exiting   "},
				detail:     []string{"exit code 1", "the app says why in its last log lines"},
				evidence:   []string{"container api previous log: worker pool exhausted, exiting", "last exited with code 1 (Error)"},
				fix:        []string{"kubectl logs api-7d4b9c-xkp2z -c api --previous -n production"},
				change:     "-", logs: true,
			},
		},
		{
			name: "app crash: an error line under its stack frames", fixture: "unknown", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "java.lang.IllegalStateException: connection pool closed\n\tat com.acme.Pool.get(Pool.java:12)\n\tat com.acme.Main.main(Main.java:5)\n"},
			want: want{
				cause: report.CauseAppCrash, container: "api", confidence: report.ConfidenceHigh,
				summary: []string{"exits with code 1: java.lang.IllegalStateException: connection pool closed"},
				change:  "-", logs: true,
			},
		},
		{
			name: "unknown: exit 1 whose log only counts zero errors", fixture: "unknown", reason: "CrashLoopBackOff",
			logs: map[string]string{"api-7d4b9c-xkp2z/api": "processed 120 jobs, 0 errors\nworkers stopped\n"},
			want: want{
				cause: report.CauseUnknown, container: "api", confidence: report.ConfidenceLow,
				summary: []string{"keeps exiting with code 1 and its log does not say why"},
				change:  "-", logs: true,
			},
		},
		{
			name: "unknown: SIGTERM (143) with no probe kill on record", fixture: "unknown", reason: "CrashLoopBackOff",
			editInput: func(in *Input) { in.Pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated.ExitCode = 143 },
			logs:      map[string]string{"api-7d4b9c-xkp2z/api": "INFO serving\n"},
			want: want{
				cause: report.CauseUnknown, container: "api",
				summary: []string{"killed by SIGTERM (exit 143)"},
				detail:  []string{"SIGTERM (128+15) not handled"},
				change:  "-", logs: true,
			},
		},
		{
			name: "statefulset: config error found through the value, diff from ControllerRevisions", fixture: "statefulset", reason: "CrashLoopBackOff",
			want: want{
				cause: report.CauseConfigError, pod: "web-2", container: "web",
				summary: []string{"env CACHE_SIZE_MB has an invalid value"},
				change:  `CACHE_SIZE_MB changed from "512" to "lots" in this rollout`,
				fix: []string{
					"kubectl set env statefulset/web -c web CACHE_SIZE_MB=512 -n production",
					"kubectl rollout undo statefulset/web -n production",
				},
				logs: true,
			},
		},
	}
}

// mountEvents replaces the fixture's FailedMount events with these messages, 3 of each, in order.
func mountEvents(msgs ...string) func(*evidence) {
	return func(ev *evidence) {
		ev.Events = slices.DeleteFunc(ev.Events, func(e corev1.Event) bool { return e.Reason == "FailedMount" })
		for i, m := range msgs {
			at := fixtureNow.Add(time.Duration(i-len(msgs)) * time.Minute)
			ev.Events = append(ev.Events, podEvent(ev, corev1.EventTypeWarning, "FailedMount", m, 3, at, at))
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range classifyCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tc.gather(t))
			checkFindings(t, got, tc.want)
		})
	}
}

// setup returns a Diagnoser over the case's fixture and its input, edited.
func (tc classifyCase) setup(t *testing.T) (*Diagnoser, Input) {
	t.Helper()
	fx := loadFixture(t, tc.fixture)
	d, _, _ := fx.diagnoser(tc.logs)
	reason := tc.reason
	if reason == "" {
		reason = "CrashLoopBackOff"
	}
	in := fx.input(reason)
	if tc.editInput != nil {
		tc.editInput(&in)
	}
	return d, in
}

// gather returns the evidence gathered for the case, edited.
func (tc classifyCase) gather(t *testing.T) *evidence {
	t.Helper()
	d, in := tc.setup(t)
	ev, err := d.gather(context.Background(), in)
	if err != nil {
		t.Fatalf("gather %s: %v", tc.fixture, err)
	}
	if tc.editEvidence != nil {
		tc.editEvidence(ev)
	}
	return ev
}

func checkFindings(t *testing.T, got []report.Finding, w want) {
	t.Helper()
	n := w.findings
	if n == 0 {
		n = 1
	}
	if len(got) != n {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), n, dump(got))
	}
	f := got[0]
	if f.Cause != w.cause {
		t.Fatalf("cause = %s, want %s:\n%s", f.Cause, w.cause, dump(got))
	}
	if w.pod != "" && f.Pod != w.pod {
		t.Errorf("pod = %q, want %q", f.Pod, w.pod)
	}
	switch w.container {
	case "":
	case "-":
		if f.Container != "" {
			t.Errorf("container = %q, want none", f.Container)
		}
	default:
		if f.Container != w.container {
			t.Errorf("container = %q, want %q", f.Container, w.container)
		}
	}
	if w.confidence != "" && f.Confidence != w.confidence {
		t.Errorf("confidence = %s, want %s", f.Confidence, w.confidence)
	}
	for _, s := range w.summary {
		if !strings.Contains(f.Summary, s) {
			t.Errorf("summary %q does not contain %q", f.Summary, s)
		}
	}
	for _, s := range w.notSummary {
		if strings.Contains(f.Summary+f.Detail, s) {
			t.Errorf("summary/detail %q must not contain %q", f.Summary+" / "+f.Detail, s)
		}
	}
	for _, s := range w.detail {
		if !strings.Contains(f.Detail, s) {
			t.Errorf("detail %q does not contain %q", f.Detail, s)
		}
	}
	for _, s := range w.evidence {
		if !containsSub(f.Evidence, s) {
			t.Errorf("no evidence line contains %q; evidence:\n  %s", s, strings.Join(f.Evidence, "\n  "))
		}
	}
	for _, s := range w.noEvidence {
		if containsSub(f.Evidence, s) {
			t.Errorf("an evidence line contains %q; evidence:\n  %s", s, strings.Join(f.Evidence, "\n  "))
		}
	}
	for _, s := range w.fix {
		if !contains(f.Fix, s) {
			t.Errorf("fix lacks %q; fix:\n  %s", s, strings.Join(f.Fix, "\n  "))
		}
	}
	for _, s := range w.fixHas {
		if !containsSub(f.Fix, s) {
			t.Errorf("no fix line contains %q; fix:\n  %s", s, strings.Join(f.Fix, "\n  "))
		}
	}
	switch w.change {
	case "":
	case "-":
		if f.Change != "" {
			t.Errorf("change = %q, want none", f.Change)
		}
	default:
		if f.Change != w.change {
			t.Errorf("change = %q, want %q", f.Change, w.change)
		}
	}
	if w.logs && (f.Logs == nil || len(f.Logs.Lines) == 0) {
		t.Errorf("no log excerpt attached")
	}
	if f.Summary == "" || len(f.Fix) == 0 || f.Confidence == "" {
		t.Errorf("finding incomplete: %s", dump(got))
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func containsSub(ss []string, s string) bool {
	for _, x := range ss {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

func dump(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  [" + string(f.Cause) + "] " + f.Pod + "/" + f.Container + ": " + f.Summary + "\n    detail: " + f.Detail + "\n    change: " + f.Change + "\n")
		for _, e := range f.Evidence {
			b.WriteString("    evidence: " + e + "\n")
		}
		for _, x := range f.Fix {
			b.WriteString("    fix: " + x + "\n")
		}
	}
	return b.String()
}

func TestRestartLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		restarts int32
		want     string
	}{
		{0, ""},
		{1, "restarted 1 time"},
		{3, "restarted 3 times"},
	} {
		c := &containerCtx{st: corev1.ContainerStatus{RestartCount: tc.restarts}}
		if got := c.restartLine(); got != tc.want {
			t.Errorf("%d restarts: %q, want %q", tc.restarts, got, tc.want)
		}
	}
}
