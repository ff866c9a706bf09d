package main

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
)

// scenario is one rollout every tool watches, each in its own namespace, from the same manifest:
// a one-replica Deployment "api" of the test app, built as the e2e tests build it.
type scenario struct {
	name string
	// what the rollout is, in a few words, for the table.
	title string
	// healthy: the rollout is good and the right answer is exit 0; otherwise it is broken and the
	// right answer is a non-zero exit.
	healthy bool
	build   func(ns string) *appsv1.Deployment
}

// deploymentName is the name of the Deployment of every scenario (and of the Helm release).
const deploymentName = "api"

// scenarios are the failures of the e2e suite (TestDiagnose, the probe scenarios) plus healthy and
// slow-start rollouts, where the wrong answer is a false alarm.
var scenarios = []scenario{
	{
		name: "bad-env", title: "bad env value, crash at start (readiness probe)",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, deploymentName, "--require-int-env", "DATABASE_PORT"))
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.Env("DATABASE_PORT", "abc")}
			return d
		},
	},
	{
		name: "crash-loop", title: "crash at start (no readiness probe)",
		build: func(ns string) *appsv1.Deployment {
			return framework.Deployment(ns, deploymentName, "--print-stderr", "FATAL: cannot load config", "--exit-code", "1")
		},
	},
	{
		name: "missing-secret", title: "env from a Secret that does not exist",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.EnvFromSecret("DB_PASSWORD", "api-db-credentials", "DB_PASSWORD")}
			return d
		},
	},
	{
		name: "oom", title: "OOM kill at start (32Mi limit)",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName, "--alloc-mb", "200")
			d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("", "32Mi")
			return d
		},
	},
	{
		name: "liveness", title: "liveness probe on a wrong path",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			d.Spec.Template.Spec.Containers[0].LivenessProbe = framework.HTTPProbe("/healthz")
			return d
		},
	},
	{
		name: "image-pull", title: "image on an unreachable registry",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			d.Spec.Template.Spec.Containers[0].Image = "registry.invalid.example:5000/api:v2"
			d.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
			return d
		},
	},
	{
		name: "unschedulable", title: "requests more CPU than any node has",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("1000", "")
			return d
		},
	},
	{
		name: "init-failure", title: "init container exits 1",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			d.Spec.Template.Spec.InitContainers = []corev1.Container{framework.Container("migrate",
				"--print-stderr", `ERROR: relation "users" does not exist`, "--exit-code", "1")}
			return d
		},
	},
	{
		name: "readiness-stall", title: "never ready (readiness probe answers 503)",
		build: func(ns string) *appsv1.Deployment {
			return framework.Ready(framework.Deployment(ns, deploymentName, "--ready-after", "1h"))
		},
	},
	{
		name: "missing-volume-secret", title: "Secret volume that does not exist",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			spec := &d.Spec.Template.Spec
			spec.Volumes = []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-tls"}}}}
			spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "tls", MountPath: "/etc/tls"}}
			return d
		},
	},
	{
		name: "slow-start", title: "healthy, 20 s start behind a startupProbe", healthy: true,
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName, "--startup-delay", "20s")
			c := &d.Spec.Template.Spec.Containers[0]
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = framework.HTTPProbe("/health"), framework.HTTPProbe("/health"), framework.HTTPProbe("/ready")
			c.StartupProbe.FailureThreshold = 60
			return d
		},
	},
	{
		// A warm-up: the readiness probe fails for 20 s, then passes. No startupProbe.
		name: "slow-ready", title: "healthy, readiness probe fails for the first 20 s", healthy: true,
		build: func(ns string) *appsv1.Deployment {
			return framework.Ready(framework.Deployment(ns, deploymentName, "--ready-after", "20s"))
		},
	},
	{
		name: "healthy-no-probes", title: "healthy, no probes", healthy: true,
		build: func(ns string) *appsv1.Deployment { return framework.Deployment(ns, deploymentName) },
	},
	{
		name: "healthy-probes", title: "healthy, startup, liveness and readiness probes", healthy: true,
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, deploymentName)
			c := &d.Spec.Template.Spec.Containers[0]
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = framework.HTTPProbe("/health"), framework.HTTPProbe("/health"), framework.HTTPProbe("/ready")
			c.StartupProbe.FailureThreshold = 30
			return d
		},
	},
}

// selectScenarios picks the scenarios named in the comma-separated list, in the bench's order;
// an empty list is all of them.
func selectScenarios(list string) ([]scenario, error) {
	if strings.TrimSpace(list) == "" {
		return scenarios, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []scenario
	for _, s := range scenarios {
		if want[s.name] {
			out = append(out, s)
			delete(want, s.name)
		}
	}
	if len(want) > 0 {
		var unknown, names []string
		for n := range want {
			unknown = append(unknown, n)
		}
		for _, s := range scenarios {
			names = append(names, s.name)
		}
		return nil, fmt.Errorf("-scenarios: no scenario %s; the scenarios are %s", strings.Join(sorted(unknown), ", "), strings.Join(names, ","))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-scenarios %q names no scenario", list)
	}
	return out, nil
}
