package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Realistic reports, one per cause id and a few shapes (healthy, rolled back, several workloads,
// too long), with the names from the CrashLoopBackOff runbook. They feed the golden files.

var t0 = time.Date(2026, 4, 4, 8, 12, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func atMs(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

type fixture struct {
	name string
	r    *Report
}

func failedReport(v Verdict, took int, ws ...Workload) *Report {
	return &Report{
		SchemaVersion: SchemaVersion, Verdict: v, StartedAt: t0, FinishedAt: at(took),
		Namespace: "production", Context: "prod-eu-west-1", Workloads: ws,
	}
}

func deployment(name, revision, reason string) Workload {
	return Workload{
		Kind: "Deployment", Namespace: "production", Name: name, Revision: revision,
		Verdict: VerdictFailed, Reason: reason,
	}
}

func crashingPod(name, container string, restarts int32, last *Termination) Pod {
	return Pod{
		Name: name, Phase: "Running", Node: "worker-1", Reason: "CrashLoopBackOff",
		Containers: []Container{{
			Name: container, Image: "registry.example.com/api:v1.2.2", RestartCount: restarts,
			State: "waiting", Reason: "CrashLoopBackOff",
			Message:   "back-off 2m40s restarting failed container=" + container + " pod=" + name + "_production",
			LastState: last,
		}},
	}
}

func crashTimeline(pod string, exit int32) []Moment {
	return []Moment{
		{At: at(1), What: "pod " + pod + " created on worker-1"},
		{At: at(3), What: "container api started"},
		{At: at(5), What: fmt.Sprintf("container api exited with code %d", exit)},
		{At: at(16), What: "container api restarted (1)"},
		{At: at(18), What: fmt.Sprintf("container api exited with code %d", exit)},
		{At: at(45), What: "CrashLoopBackOff: back-off 20s"},
		{At: at(46), What: "verdict: failed (crash loop after 2 restarts)"},
	}
}

func fixtures() []fixture {
	const pod = "api-7d4b9c-xkp2z"

	missingKey := deployment("api-deployment", "5", "CreateContainerConfigError")
	missingKey.Message = "1 of 3 new pods cannot start: CreateContainerConfigError"
	missingKey.Source = &Source{File: "k8s/api-deployment.yaml", Line: 1}
	missingKey.Duration = 46
	missingKey.Pods = []Pod{{
		Name: "api-deployment-7d4b9c-xkp2z", Phase: "Pending", Node: "worker-1", Reason: "CreateContainerConfigError",
		Containers: []Container{{
			Name: "api", Image: "registry.example.com/api:v1.2.2", State: "waiting", Reason: "CreateContainerConfigError",
			Message: "couldn't find key DB_PASSWORD in Secret production/api-db-credentials",
		}},
	}}
	missingKey.Findings = []Finding{{
		Cause: CauseMissingSecretKey, Pod: "api-deployment-7d4b9c-xkp2z", Container: "api",
		Summary: "key DB_PASSWORD missing from Secret production/api-db-credentials",
		Detail: "env DB_PASSWORD of container api reads key DB_PASSWORD of Secret production/api-db-credentials, " +
			"which has keys DB_HOST, DB_USER",
		Evidence: []string{
			"container api is waiting: CreateContainerConfigError: couldn't find key DB_PASSWORD in Secret production/api-db-credentials",
			"event Failed (x4 over 45s) on pod/api-deployment-7d4b9c-xkp2z: Error: couldn't find key DB_PASSWORD in Secret production/api-db-credentials",
			"Secret production/api-db-credentials has keys DB_HOST, DB_USER (values not read)",
		},
		Confidence: ConfidenceHigh,
		Fix: []string{
			"# add the key; the value comes from your secret store, never from CI logs",
			`kubectl patch secret api-db-credentials -n production --type=json -p="[{\"op\":\"add\",\"path\":\"/data/DB_PASSWORD\",\"value\":\"$(printf %s "$DB_PASSWORD" | base64 -w0)\"}]"`,
			"kubectl rollout restart deployment/api-deployment -n production",
			"kubectl rollout status deployment/api-deployment -n production",
		},
		Change: "this rollout added env DB_PASSWORD from secretKeyRef api-db-credentials/DB_PASSWORD",
	}}
	missingKey.Changes = []Change{
		{Path: "containers[api].env[DB_PASSWORD]", After: "secretKeyRef api-db-credentials/DB_PASSWORD"},
		{Path: "containers[api].image", Before: "registry.example.com/api:v1.2.1", After: "registry.example.com/api:v1.2.2"},
	}
	missingKey.Events = []Event{
		{Type: "Normal", Reason: "Scheduled", Object: "pod/api-deployment-7d4b9c-xkp2z", Message: "Successfully assigned production/api-deployment-7d4b9c-xkp2z to worker-1", Count: 1, FirstSeen: at(1), LastSeen: at(1)},
		{Type: "Normal", Reason: "Pulled", Object: "pod/api-deployment-7d4b9c-xkp2z", Message: `Container image "registry.example.com/api:v1.2.2" already present on machine`, Count: 4, FirstSeen: at(2), LastSeen: at(45)},
		{Type: "Warning", Reason: "Failed", Object: "pod/api-deployment-7d4b9c-xkp2z", Message: "Error: couldn't find key DB_PASSWORD in Secret production/api-db-credentials", Count: 4, FirstSeen: at(2), LastSeen: at(45)},
	}
	missingKey.Timeline = []Moment{
		{At: at(1), What: "pod api-deployment-7d4b9c-xkp2z created on worker-1"},
		{At: at(2), What: "container api: CreateContainerConfigError"},
		{At: at(46), What: "verdict: failed (CreateContainerConfigError is fatal)"},
	}

	oom := deployment("api", "12", "CrashLoopBackOff")
	oom.Duration = 95
	oom.Pods = []Pod{crashingPod(pod, "api", 9, &Termination{
		ExitCode: 137, Reason: "OOMKilled", StartedAt: at(40), FinishedAt: at(83),
		Meaning: "SIGKILL: killed by the kernel OOM killer at the memory limit",
	})}
	oom.Findings = []Finding{{
		Cause: CauseOOMKilled, Pod: pod, Container: "api",
		Summary:  "container api was OOMKilled (exit 137) at its 512Mi memory limit",
		Detail:   "the kernel killed the process with SIGKILL when it went over resources.limits.memory 512Mi; it ran 43s before the last kill",
		Evidence: []string{"lastState.terminated: reason OOMKilled, exit code 137, ran 08:12:40 to 08:13:23", "restartCount 9", "event BackOff (x12): Back-off restarting failed container api in pod " + pod + "_production"},
		Fix: []string{
			"kubectl set resources deployment/api -n production -c api --limits=memory=1Gi --requests=memory=512Mi",
			"# if usage keeps climbing after that, it is a leak: profile it (pprof, jmap) before raising the limit again",
		},
		Confidence: ConfidenceHigh,
		Change:     "this rollout lowered the memory limit of container api from 1Gi to 512Mi",
		Logs: &LogExcerpt{Container: "api", Previous: true, Lines: []string{
			"2026-04-04T08:13:20Z INFO cache warmed: 1843201 entries",
			"2026-04-04T08:13:22Z INFO loading report index (412 MiB)",
		}},
	}}
	oom.Changes = []Change{{Path: "containers[api].resources.limits.memory", Before: "1Gi", After: "512Mi"}}
	oom.Events = []Event{{Type: "Warning", Reason: "BackOff", Object: "pod/" + pod, Message: "Back-off restarting failed container api in pod " + pod + "_production(0b1c)", Count: 12, FirstSeen: at(20), LastSeen: at(90)}}
	oom.Timeline = crashTimeline(pod, 137)

	liveness := deployment("api", "8", "CrashLoopBackOff")
	liveness.Pods = []Pod{crashingPod(pod, "api", 3, &Termination{ExitCode: 143, Reason: "Error", Meaning: "SIGTERM: stopped by the kubelet (a failed liveness probe)"})}
	liveness.Findings = []Finding{{
		Cause: CauseLivenessProbe, Pod: pod, Container: "api",
		Summary:  "liveness probe GET :8080/healthz returns 404, so the kubelet restarts container api",
		Detail:   "livenessProbe.httpGet path /healthz port 8080, initialDelaySeconds 5; the app has been listening only after 22s and serves /health",
		Evidence: []string{"event Unhealthy (x3 over 38s): Liveness probe failed: HTTP probe failed with statuscode: 404", "event Killing: Container api failed liveness probe, will be restarted", "log: server listening on :8080 after 22s startup"},
		Fix: []string{
			"# point the probe at the real endpoint, and give start-up its own probe",
			`kubectl patch deployment api -n production --type=json -p='[{"op":"replace","path":"/spec/template/spec/containers/0/livenessProbe/httpGet/path","value":"/health"}]'`,
			"kubectl rollout status deployment/api -n production",
		},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed livenessProbe.httpGet.path of container api from /health to /healthz",
		Logs:       &LogExcerpt{Container: "api", Previous: true, Lines: []string{"2026-04-04T08:15:11Z INFO loading config", "2026-04-04T08:15:33Z INFO server listening on :8080 after 22s startup", "2026-04-04T08:15:34Z INFO received SIGTERM, shutting down"}},
	}}
	liveness.Changes = []Change{{Path: "containers[api].livenessProbe.httpGet.path", Before: "/health", After: "/healthz"}}
	liveness.Events = []Event{
		{Type: "Warning", Reason: "Unhealthy", Object: "pod/" + pod, Message: "Liveness probe failed: HTTP probe failed with statuscode: 404", Count: 3, FirstSeen: at(20), LastSeen: at(38)},
		{Type: "Normal", Reason: "Killing", Object: "pod/" + pod, Message: "Container api failed liveness probe, will be restarted", Count: 1, FirstSeen: at(38), LastSeen: at(38)},
	}

	dep := deployment("api", "9", "CrashLoopBackOff")
	dep.Pods = []Pod{crashingPod(pod, "api", 4, &Termination{ExitCode: 1, Reason: "Error", Meaning: "the application exited with an error"})}
	dep.Findings = []Finding{{
		Cause: CauseDependency, Pod: pod, Container: "api",
		Summary:  "container api exits because postgres-service.production.svc.cluster.local:5432 refuses connections",
		Detail:   "statefulset/postgres behind the service is itself not ready (postgres-0 CrashLoopBackOff)",
		Evidence: []string{"log: dial tcp 10.0.1.45:5432: connect: connection refused", "statefulset/postgres: 0/1 ready, pod postgres-0 in CrashLoopBackOff"},
		Fix: []string{
			"kubectl get pods -n production -l app=postgres",
			"kubectl logs postgres-0 -n production --previous",
			"kubectl run debug --image=busybox:1.35 --restart=Never --rm -it -n production -- nc -zv postgres-service.production.svc.cluster.local 5432",
			"kubectl get networkpolicies -n production",
		},
		Confidence: ConfidenceMedium,
		Logs: &LogExcerpt{Container: "api", Previous: true, Lines: []string{
			"Error: unable to connect to PostgreSQL at postgres-service.production.svc.cluster.local:5432",
			"dial tcp 10.0.1.45:5432: connect: connection refused",
			"failed to initialise application, exiting",
		}},
	}}
	dep.Timeline = crashTimeline(pod, 1)

	initc := deployment("api", "14", "Init:CrashLoopBackOff")
	initc.Pods = []Pod{{
		Name: pod, Phase: "Pending", Node: "worker-2", Reason: "Init:CrashLoopBackOff",
		Containers: []Container{
			{Name: "init-migrate", Init: true, Image: "registry.example.com/migrate:v42", RestartCount: 4, State: "waiting", Reason: "CrashLoopBackOff",
				LastState: &Termination{ExitCode: 1, Reason: "Error", Meaning: "the application exited with an error"}},
			{Name: "api", Image: "registry.example.com/api:v1.2.2", State: "waiting", Reason: "PodInitializing"},
		},
	}}
	initc.Findings = []Finding{{
		Cause: CauseInitContainer, Pod: pod, Container: "init-migrate",
		Summary:    "init container init-migrate fails (exit 1): migration 004_add_sessions_table.sql needs relation \"users\"",
		Evidence:   []string{"init container init-migrate: 4 restarts, last exit code 1", `log: ERROR: relation "users" does not exist`},
		Fix:        []string{"kubectl logs " + pod + " -c init-migrate --previous -n production", "# repair the schema or the migration, then:", "kubectl rollout restart deployment/api -n production"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed the image of init container init-migrate from migrate:v41 to migrate:v42",
		Logs: &LogExcerpt{Container: "init-migrate", Previous: true, Lines: []string{
			"running migration 004_add_sessions_table.sql",
			`ERROR: relation "users" does not exist`,
			"LINE 1: ALTER TABLE users ADD COLUMN last_seen TIMESTAMP;",
			"migration failed — exiting with code 1",
		}},
	}}
	initc.Changes = []Change{{Path: "initContainers[init-migrate].image", Before: "registry.example.com/migrate:v41", After: "registry.example.com/migrate:v42"}}

	pull := deployment("api", "15", "ImagePullBackOff")
	pull.Pods = []Pod{{Name: pod, Phase: "Pending", Node: "worker-1", Reason: "ImagePullBackOff", Containers: []Container{{
		Name: "api", Image: "registry.example.com/api:v1.2.3", State: "waiting", Reason: "ImagePullBackOff",
		Message: `Back-off pulling image "registry.example.com/api:v1.2.3"`,
	}}}}
	pull.Findings = []Finding{{
		Cause: CauseImagePull, Pod: pod, Container: "api",
		Summary:    "image registry.example.com/api:v1.2.3 does not exist in the registry",
		Evidence:   []string{`event Failed (x3): Failed to pull image "registry.example.com/api:v1.2.3": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/api:v1.2.3": failed to resolve reference "registry.example.com/api:v1.2.3": registry.example.com/api:v1.2.3: not found`},
		Fix:        []string{"docker manifest inspect registry.example.com/api:v1.2.3", "# push the image, or go back to the last good tag:", "kubectl set image deployment/api -n production api=registry.example.com/api:v1.2.2"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed the image of container api from api:v1.2.2 to api:v1.2.3",
	}}
	pull.Changes = []Change{{Path: "containers[api].image", Before: "registry.example.com/api:v1.2.2", After: "registry.example.com/api:v1.2.3"}}

	unsched := deployment("api", "16", "Unschedulable")
	unsched.Pods = []Pod{{Name: pod, Phase: "Pending", Reason: "Unschedulable"}, {Name: "api-7d4b9c-q8m2v", Phase: "Pending", Reason: "Unschedulable"}}
	unsched.Findings = []Finding{{
		Cause: CauseUnschedulable, Pod: pod,
		Summary:    "no node has 8Gi of memory free for the new pods' requests",
		Detail:     "requests.memory of container api is 8Gi; the largest free allocatable memory on any node is 3.1Gi",
		Evidence:   []string{"event FailedScheduling (x6): 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."},
		Fix:        []string{"kubectl describe nodes | grep -A 8 'Allocated resources'", "kubectl set resources deployment/api -n production -c api --requests=memory=512Mi"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout raised requests.memory of container api from 512Mi to 8Gi",
	}}
	unsched.Changes = []Change{{Path: "containers[api].resources.requests.memory", Before: "512Mi", After: "8Gi"}}

	pressure := Workload{Kind: "DaemonSet", Namespace: "production", Name: "log-agent", Revision: "log-agent-6c9f7d5b8", Verdict: VerdictFailed, Reason: "Evicted"}
	pressure.Pods = []Pod{{Name: "log-agent-4kq9z", Phase: "Failed", Node: "worker-2", Reason: "Evicted"}}
	pressure.Findings = []Finding{{
		Cause: CauseNodePressure, Pod: "log-agent-4kq9z",
		Summary:    "node worker-2 has DiskPressure; the kubelet evicted pod log-agent-4kq9z",
		Evidence:   []string{"pod status: Evicted: The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: 4%.", "node worker-2: DiskPressure=True since 08:05:12"},
		Fix:        []string{"kubectl describe node worker-2 | grep -A 10 Conditions", "kubectl get pods -A --field-selector spec.nodeName=worker-2", "# free disk on worker-2 (images, logs), or cordon it and move the load"},
		Confidence: ConfidenceMedium,
	}}

	denied := deployment("api", "17", "FailedCreate")
	denied.Message = "ReplicaSet api-7d4b9c cannot create pods"
	denied.Findings = []Finding{{
		Cause:      CauseCreateDenied,
		Summary:    `pod creation is denied by PodSecurity "restricted:latest" in namespace production`,
		Detail:     `container "api" must set securityContext.allowPrivilegeEscalation=false`,
		Evidence:   []string{`event FailedCreate (x8) on replicaset/api-7d4b9c: Error creating: pods "api-7d4b9c-" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "api" must set securityContext.allowPrivilegeEscalation=false)`},
		Fix:        []string{"kubectl get namespace production --show-labels", "# set securityContext.allowPrivilegeEscalation: false on container api, then apply again"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout removed securityContext.allowPrivilegeEscalation from container api",
	}}

	deadline := Workload{Kind: "Job", Namespace: "production", Name: "migrate", Verdict: VerdictFailed, Reason: "DeadlineExceeded",
		Message: "job failed: Job was active longer than specified deadline"}
	deadline.Findings = []Finding{{
		Cause:      CauseJobDeadline,
		Summary:    "job/migrate ran for 35s, past its activeDeadlineSeconds 30 (30s), and was stopped",
		Detail:     "the Job controller kills the Job's pods at activeDeadlineSeconds, counted from the Job's start, whatever they are doing; the work did not finish in time",
		Evidence:   []string{"Job condition Failed=True DeadlineExceeded: Job was active longer than specified deadline", "pod migrate-x7k2p: container migrate running for 33s; last log line: migrating table orders: 41%"},
		Fix:        []string{"kubectl logs job/migrate -n production --all-containers --tail=50", "kubectl delete job/migrate -n production", "# then apply the Job's fixed manifest again"},
		Confidence: ConfidenceHigh,
	}}

	ready := deployment("api", "18", "ProgressDeadlineExceeded")
	ready.Verdict = VerdictTimeout
	ready.Message = `ReplicaSet "api-7d4b9c" has timed out progressing.`
	ready.Duration = 600
	ready.Pods = []Pod{{Name: pod, Phase: "Running", Node: "worker-1", Containers: []Container{{Name: "api", State: "running"}}}}
	ready.Findings = []Finding{{
		Cause: CauseReadinessProbe, Pod: pod, Container: "api",
		Summary:    "readiness probe :8080/ready never succeeded in 10m; the pods run but get no traffic",
		Detail:     "the app now listens on 8081 (env PORT), the probe still calls 8080",
		Evidence:   []string{`event Unhealthy (x40 over 10m): Readiness probe failed: Get "http://10.244.1.7:8080/ready": dial tcp 10.244.1.7:8080: connect: connection refused`},
		Fix:        []string{`kubectl patch deployment api -n production --type=json -p='[{"op":"replace","path":"/spec/template/spec/containers/0/readinessProbe/httpGet/port","value":8081}]'`},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed env PORT of container api from 8080 to 8081",
	}}
	ready.Changes = []Change{{Path: "containers[api].env[PORT]", Before: "8080", After: "8081"}}

	cfg := deployment("api", "19", "CrashLoopBackOff")
	cfg.Pods = []Pod{crashingPod(pod, "api", 5, &Termination{ExitCode: 1, Reason: "Error", Meaning: "the application exited with an error"})}
	cfg.Findings = []Finding{{
		Cause: CauseConfigError, Pod: pod, Container: "api",
		Summary:    `env DATABASE_PORT="abc" is not an integer; container api exits at start-up`,
		Evidence:   []string{`log: FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`, "exit code 1 after 0.2s, 5 restarts"},
		Fix:        []string{"kubectl set env deployment/api -n production DATABASE_PORT=5432"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed env DATABASE_PORT of container api from 5432 to abc",
		Logs:       &LogExcerpt{Container: "api", Previous: true, Lines: []string{`FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`, "exit status 1"}},
		Edit: &ManifestEdit{File: "deploy/api.yaml", Line: 31, Path: "containers[api].env[DATABASE_PORT]", What: "DATABASE_PORT",
			Old: `              value: "abc"`, New: `              value: "5432"`, Before: `"5432"`, After: `"abc"`},
	}}
	cfg.Changes = []Change{{Path: "containers[api].env[DATABASE_PORT]", Before: "5432", After: "abc"}}

	crash := deployment("api", "20", "CrashLoopBackOff")
	crash.Pods = []Pod{crashingPod(pod, "api", 6, &Termination{ExitCode: 1, Reason: "Error", Meaning: "the application exited with an error"})}
	crash.Findings = []Finding{{
		Cause: CauseAppCrash, Pod: pod, Container: "api",
		Summary:    "container api crashes at start-up: ModuleNotFoundError: No module named 'utils.auth'",
		Evidence:   []string{"log: ModuleNotFoundError: No module named 'utils.auth'", "exit code 1, 6 restarts"},
		Fix:        []string{"# the image lacks a module: fix the Dockerfile and rebuild; meanwhile go back:", "kubectl rollout undo deployment/api -n production"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout changed the image of container api from api:v1.2.1 to api:v1.2.2",
		Logs: &LogExcerpt{Container: "api", Previous: true, Lines: []string{
			"Traceback (most recent call last):",
			`  File "/app/main.py", line 14, in <module>`,
			"    from utils.auth import verify_token",
			"ModuleNotFoundError: No module named 'utils.auth'",
		}},
	}}
	crash.Changes = []Change{{Path: "containers[api].image", Before: "registry.example.com/api:v1.2.1", After: "registry.example.com/api:v1.2.2"}}
	crash.Timeline = crashTimeline(pod, 1)

	noSecret := deployment("api", "21", "CreateContainerConfigError")
	noSecret.Pods = []Pod{{Name: pod, Phase: "Pending", Node: "worker-1", Reason: "CreateContainerConfigError", Containers: []Container{{Name: "api", State: "waiting", Reason: "CreateContainerConfigError", Message: `secret "api-db-credentials" not found`}}}}
	noSecret.Findings = []Finding{{
		Cause: CauseMissingSecret, Pod: pod, Container: "api",
		Summary:    "Secret production/api-db-credentials does not exist",
		Detail:     "envFrom of container api reads Secret api-db-credentials; namespace production has Secrets api-tls-cert, registry-pull-secret",
		Evidence:   []string{`event Failed (x4 over 45s): Error: secret "api-db-credentials" not found`},
		Fix:        []string{"kubectl create secret generic api-db-credentials -n production --from-env-file=./api-db-credentials.env", "kubectl rollout restart deployment/api -n production"},
		Confidence: ConfidenceHigh,
	}}

	noCM := deployment("api", "22", "ContainerCreating")
	noCM.Pods = []Pod{{Name: pod, Phase: "Pending", Node: "worker-1", Reason: "ContainerCreating", Containers: []Container{{Name: "api", State: "waiting", Reason: "ContainerCreating"}}}}
	noCM.Findings = []Finding{{
		Cause: CauseMissingConfigMap, Pod: pod,
		Summary:    "ConfigMap production/api-config does not exist",
		Detail:     "volume config of pod " + pod + " mounts ConfigMap api-config",
		Evidence:   []string{`event FailedMount (x5): MountVolume.SetUp failed for volume "config" : configmap "api-config" not found`},
		Fix:        []string{"kubectl create configmap api-config -n production --from-file=config/", "kubectl rollout restart deployment/api -n production"},
		Confidence: ConfidenceHigh,
	}}

	noCMKey := deployment("api", "23", "CreateContainerConfigError")
	noCMKey.Pods = []Pod{{Name: pod, Phase: "Pending", Node: "worker-1", Reason: "CreateContainerConfigError", Containers: []Container{{Name: "api", State: "waiting", Reason: "CreateContainerConfigError", Message: "couldn't find key LOG_LEVEL in ConfigMap production/api-config"}}}}
	noCMKey.Findings = []Finding{{
		Cause: CauseMissingConfigMapKey, Pod: pod, Container: "api",
		Summary:    "key LOG_LEVEL missing from ConfigMap production/api-config",
		Detail:     "env LOG_LEVEL of container api reads key LOG_LEVEL of ConfigMap production/api-config, which has keys FEATURE_FLAGS, LISTEN_ADDR",
		Evidence:   []string{"event Failed (x3): Error: couldn't find key LOG_LEVEL in ConfigMap production/api-config"},
		Fix:        []string{`kubectl patch configmap api-config -n production --type=merge -p '{"data":{"LOG_LEVEL":"info"}}'`, "kubectl rollout restart deployment/api -n production"},
		Confidence: ConfidenceHigh,
		Change:     "this rollout added env LOG_LEVEL from configMapKeyRef api-config/LOG_LEVEL",
	}}

	noClass := deployment("api", "26", "Unschedulable")
	noClass.Pods = []Pod{{Name: pod, Phase: "Pending", Reason: "Unschedulable", Containers: []Container{{Name: "api", State: "waiting", Reason: "ContainerCreating"}}}}
	noClass.Findings = []Finding{{
		Cause: CauseMissingStorageClass, Pod: pod,
		Summary: "StorageClass fast-ssd does not exist, so PersistentVolumeClaim production/api-data never binds and the pod cannot be scheduled",
		Detail:  "volume data (spec.volumes[0]) uses PersistentVolumeClaim production/api-data, whose spec.storageClassName is fast-ssd, which does not exist; the cluster has StorageClasses premium-rwo, standard (default)",
		Evidence: []string{"PodScheduled=False Unschedulable: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
			`Warning ProvisioningFailed (x40) on persistentvolumeclaim/api-data: storageclass.storage.k8s.io "fast-ssd" not found`,
			"StorageClasses in the cluster: premium-rwo, standard (default)"},
		Fix: []string{"kubectl get storageclass", "kubectl get pvc api-data -o yaml -n production",
			"# a claim's storageClassName cannot be changed: delete the claim and apply it again with storageClassName standard (or create StorageClass fast-ssd):",
			"kubectl delete pvc api-data -n production", "# then apply the fixed PersistentVolumeClaim manifest", "kubectl rollout status deployment/api -n production"},
		Confidence: ConfidenceHigh,
	}}

	unknown := deployment("api", "24", "CrashLoopBackOff")
	unknown.Pods = []Pod{crashingPod(pod, "api", 3, &Termination{ExitCode: 2, Reason: "Error", Meaning: "exit code 2: misuse or an application-defined error"})}
	unknown.Findings = []Finding{{
		Cause: CauseUnknown, Pod: pod, Container: "api",
		Summary:    "container api exits with code 2; its log is empty and no event explains it",
		Evidence:   []string{"exit code 2 after 0.1s, 3 restarts", "previous log: empty"},
		Fix:        []string{"kubectl describe pod " + pod + " -n production", "kubectl debug -it " + pod + " -n production --copy-to=api-debug --container=api -- /bin/sh"},
		Confidence: ConfidenceLow,
	}}

	healthy := failedReport(VerdictHealthy, 42,
		Workload{Kind: "Deployment", Namespace: "production", Name: "api", Revision: "25", Verdict: VerdictHealthy, Duration: 38,
			Pods: []Pod{{Name: pod, Phase: "Running", Ready: true}, {Name: "api-7d4b9c-q8m2v", Phase: "Running", Ready: true}}},
		Workload{Kind: "StatefulSet", Namespace: "production", Name: "postgres", Revision: "postgres-5d8f9c7b6", Verdict: VerdictHealthy, Duration: 42,
			Pods: []Pod{{Name: "postgres-0", Phase: "Running", Ready: true}}},
	)

	rolled := deployment("api", "5", "CrashLoopBackOff")
	rolled.Pods = crash.Pods
	rolled.Findings = crash.Findings
	rolled.Changes = crash.Changes
	rolled.Rollback = &Rollback{Status: RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true,
		Message: "deployment/api is back on revision 4 and all 3 pods are ready", Duration: 21.4,
		Changes: []Change{{Path: "containers[api].image", Before: "registry.example.com/api:v1.2.2", After: "registry.example.com/api:v1.2.1"}}}
	rolledReport := failedReport(VerdictFailed, 92, rolled)
	rolledReport.RolledBack = true

	multiAPI := oom
	multiAPI.Source = &Source{File: "deploy/api.yaml", Line: 1}
	multiWorker := ready
	multiWorker.Name = "worker"
	multiWorker.Source = &Source{File: "deploy/worker.yaml", Line: 20}
	multiWorker.Rollback = &Rollback{Status: RollbackFailed, FromRevision: "18", ToRevision: "17", Undone: true, Duration: 120,
		Message: "rolled back deployment production/worker from revision 18 to revision 17, but it is still failing: revision 17 also does not become ready: readiness probe failing"}
	multi := failedReport(VerdictFailed, 610,
		multiAPI,
		multiWorker,
		Workload{Kind: "StatefulSet", Namespace: "production", Name: "postgres", Revision: "postgres-5d8f9c7b6", Verdict: VerdictHealthy,
			Source: &Source{File: "deploy/postgres.yaml", Line: 1}, Pods: []Pod{{Name: "postgres-0", Phase: "Running", Ready: true}}},
		Workload{Kind: "CronJob", Namespace: "production", Name: "nightly-report", Verdict: VerdictSkipped, Reason: "UnsupportedKind",
			Message: "rollout-gate judges Deployments, StatefulSets and DaemonSets; CronJob is skipped", Source: &Source{File: "deploy/cron.yaml", Line: 1}},
	)
	multi.RolledBack = true

	cannot := &Report{SchemaVersion: SchemaVersion, Verdict: VerdictError, StartedAt: t0, FinishedAt: at(3), Namespace: "production",
		Message: `get deployment production/api: forbidden: the gate's identity may not get deployments.apps; add this rule to its Role`}

	long := deployment("api", "26", "CrashLoopBackOff")
	long.Pods = crash.Pods
	var lines []string
	for i := range 400 {
		lines = append(lines, fmt.Sprintf("2026-04-04T08:13:%02dZ ERROR request %d failed: upstream timeout %s", i%60, i, strings.Repeat("x", 40)))
	}
	for i := range 12 {
		f := crash.Findings[0]
		f.Logs = &LogExcerpt{Container: "api", Previous: true, Lines: lines}
		f.Summary = fmt.Sprintf("finding %d: %s", i+1, f.Summary)
		long.Findings = append(long.Findings, f)
	}

	// The first failure ended the run while the worker was still starting.
	interruptedWorker := Workload{Kind: "Deployment", Namespace: "production", Name: "worker", Revision: "18", Verdict: VerdictInterrupted,
		Reason: "Interrupted", Duration: 45, Pods: []Pod{}, Findings: []Finding{}, Changes: []Change{},
		Message: "not judged to the end: the run stopped when deployment/api failed (--wait-all judges every workload); state then: 1/2 updated, 1/2 available; worker-6f7c8d-k2x9p Running, not ready"}
	interrupted := failedReport(VerdictFailed, 45, crash, interruptedWorker)

	// rollout-gate.io/rollback: "false" kept the failed revision in place, even with --rollback.
	kept := deployment("api", "5", "CrashLoopBackOff")
	kept.Pods, kept.Findings, kept.Changes = crash.Pods, crash.Findings, crash.Changes
	kept.Rollback = &Rollback{Status: RollbackSkipped,
		Message: `its annotation rollout-gate.io/rollback is "false": not rolled back, the failed revision stays in place`}

	// A release with a custom resource judged by its status (kstatus): its conditions are the
	// evidence, and it has no pods and nothing to roll back. A ConfigMap next to it is skipped.
	og := int64(3)
	cert := Workload{Kind: "Certificate", APIVersion: "cert-manager.io/v1", Namespace: "production", Name: "api-tls",
		Verdict: VerdictFailed, Reason: "Failed", Source: &Source{File: "k8s/release.yaml", Line: 24}, Duration: 12,
		Message: "The certificate request has failed to complete and will be retried: acme: authorization error for api.example.com: 403 urn:ietf:params:acme:error:unauthorized",
		Status: &ResourceStatus{Status: "Failed", Generation: 3, ObservedGeneration: &og,
			Message: "The certificate request has failed to complete and will be retried: acme: authorization error for api.example.com: 403 urn:ietf:params:acme:error:unauthorized",
			Conditions: []Condition{
				{Type: "Issuing", Status: "False", Reason: "Failed", Message: "The certificate request has failed to complete and will be retried"},
				{Type: "Ready", Status: "False", Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist"},
				{Type: "Stalled", Status: "True", Reason: "Failed", Message: "acme: authorization error for api.example.com: 403 urn:ietf:params:acme:error:unauthorized"},
			}},
		Rollback: &Rollback{Status: RollbackSkipped, Message: "rollback does not apply to a Certificate: it is judged by its status and has no revision history the gate could go back to; it was not touched"},
	}
	web := Workload{Kind: "Deployment", Namespace: "production", Name: "api", Revision: "8", Verdict: VerdictHealthy, Reason: "Complete",
		Message: "deployment \"api\" successfully rolled out", Duration: 31, Source: &Source{File: "k8s/release.yaml", Line: 1}}
	cm := Workload{Kind: "ConfigMap", APIVersion: "v1", Namespace: "production", Name: "api-config", Verdict: VerdictSkipped,
		Message: "ConfigMap has no status to judge", Source: &Source{File: "k8s/release.yaml", Line: 40}}
	customResource := failedReport(VerdictFailed, 31, cert, web, cm)
	// Two workloads: api crash-loops, fails and is rolled back to health; worker rolls out healthy.
	// Their timelines hold the milestones the diagram draws, among moments it leaves to the text.
	diagramAPI := deployment("api", "5", "CrashLoopBackOff")
	diagramAPI.Message = "2 of 2 new pods are crash-looping"
	diagramAPI.Pods, diagramAPI.Findings, diagramAPI.Changes = crash.Pods, crash.Findings, crash.Changes
	diagramAPI.Duration = 46
	diagramAPI.Timeline = []Moment{
		{At: atMs(0), What: "rollout of revision 5 began", Kind: MomentRollout},
		{At: atMs(1200), What: "pod " + pod + " created", Kind: MomentPod},
		{At: atMs(1300), What: "pod api-7d4b9c-q8m2v created", Kind: MomentPod},
		{At: atMs(1400), What: "pod " + pod + " scheduled on node worker-1"},
		{At: atMs(3100), What: "container api of pod " + pod + " started"},
		{At: atMs(5400), What: "container api of pod " + pod + " terminated: exit 1", Kind: MomentCrash},
		{At: atMs(5900), What: "container api of pod api-7d4b9c-q8m2v terminated: exit 1", Kind: MomentCrash},
		{At: atMs(16000), What: "container api of pod " + pod + " started (restart 1)"},
		{At: atMs(18200), What: "container api of pod " + pod + " terminated: exit 1", Kind: MomentCrash},
		{At: atMs(20000), What: "Warning BackOff on pod/" + pod + ": Back-off restarting failed container api"},
		{At: atMs(46000), What: "verdict: failed (CrashLoopBackOff)", Kind: MomentVerdict},
		{At: atMs(46300), What: "rollback from revision 5 to revision 4 began", Kind: MomentRollback},
		{At: atMs(67700), What: "rolled back from revision 5 to revision 4, healthy again", Kind: MomentRollbackEnd},
	}
	diagramAPI.Rollback = &Rollback{Status: RollbackRolledBack, FromRevision: "5", ToRevision: "4", Undone: true, Duration: 21.4,
		Message: "rolled back deployment production/api from revision 5 to revision 4 and it is healthy again"}
	diagramWorker := Workload{Kind: "Deployment", Namespace: "production", Name: "worker", Revision: "18", Verdict: VerdictHealthy,
		Duration: 21.3, Pods: []Pod{{Name: "worker-6f7c8d-k2x9p", Phase: "Running", Ready: true}, {Name: "worker-6f7c8d-m4n7q", Phase: "Running", Ready: true}},
		Timeline: []Moment{
			{At: atMs(400), What: "rollout of revision 18 began", Kind: MomentRollout},
			{At: atMs(1500), What: "pod worker-6f7c8d-k2x9p created", Kind: MomentPod},
			{At: atMs(2000), What: "pod worker-6f7c8d-m4n7q created", Kind: MomentPod},
			{At: atMs(21700), What: "verdict: healthy", Kind: MomentVerdict},
		}}
	diagramReport := failedReport(VerdictFailed, 68, diagramAPI, diagramWorker)
	diagramReport.RolledBack = true

	// A release of seven services that all read a Secret nobody created: more lanes than the
	// diagram shows, so the Markdown keeps to the text timelines and says why.
	var seven []Workload
	for i, name := range []string{"api", "worker", "billing", "search", "mailer", "cart", "auth"} {
		w := deployment(name, strconv.Itoa(30+i), "CreateContainerConfigError")
		p := name + "-5c9d7f-x2k4q"
		w.Message = "1 of 1 new pods cannot start: CreateContainerConfigError"
		w.Timeline = []Moment{
			{At: atMs(100 * i), What: "rollout of revision " + w.Revision + " began", Kind: MomentRollout},
			{At: atMs(1000 + 100*i), What: "pod " + p + " created", Kind: MomentPod},
			{At: atMs(2000 + 100*i), What: "Warning Failed on pod/" + p + `: Error: secret "shared-db" not found`},
			{At: atMs(31000 + 100*i), What: "verdict: failed (CreateContainerConfigError)", Kind: MomentVerdict},
		}
		seven = append(seven, w)
	}

	return []fixture{
		{"custom-resource", customResource},
		{"missing-secret-key", failedReport(VerdictFailed, 46, missingKey)},
		{"oom-killed", failedReport(VerdictFailed, 95, oom)},
		{"liveness-probe", failedReport(VerdictFailed, 60, liveness)},
		{"dependency-unavailable", failedReport(VerdictFailed, 50, dep)},
		{"init-container", failedReport(VerdictFailed, 70, initc)},
		{"image-pull", failedReport(VerdictFailed, 40, pull)},
		{"unschedulable", failedReport(VerdictFailed, 20, unsched)},
		{"node-pressure", failedReport(VerdictFailed, 30, pressure)},
		{"create-denied", failedReport(VerdictFailed, 15, denied)},
		{"job-deadline", failedReport(VerdictFailed, 36, deadline)},
		{"readiness-probe", failedReport(VerdictTimeout, 600, ready)},
		{"config-error", failedReport(VerdictFailed, 35, cfg)},
		{"app-crash", failedReport(VerdictFailed, 45, crash)},
		{"missing-secret", failedReport(VerdictFailed, 45, noSecret)},
		{"missing-configmap", failedReport(VerdictFailed, 45, noCM)},
		{"missing-configmap-key", failedReport(VerdictFailed, 45, noCMKey)},
		{"missing-storageclass", failedReport(VerdictFailed, 3, noClass)},
		{"unknown", failedReport(VerdictFailed, 45, unknown)},
		{"healthy", healthy},
		{"rolled-back", rolledReport},
		{"multi-workload", multi},
		{"cannot-evaluate", cannot},
		{"truncated", failedReport(VerdictFailed, 45, long)},
		{"interrupted", interrupted},
		{"not-rolled-back", failedReport(VerdictFailed, 45, kept)},
		{"rollout-diagram", diagramReport},
		{"rollout-diagram-fallback", failedReport(VerdictFailed, 32, seven...)},
	}
}
