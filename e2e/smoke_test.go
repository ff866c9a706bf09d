//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
)

// The smoke tests prove that the cluster shows real kubelet behaviour, one failure each, every
// one in its own namespace. Timeouts are generous: CrashLoopBackOff only shows after the second
// crash (about 20 to 35 s), and the node is shared by the tests running in parallel.
const slow = 3 * time.Minute

func TestSmokeHealthyDeploymentBecomesAvailable(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "web", "--ready-after", "1s"))
	d.Spec.Replicas = ptr.To[int32](2)
	framework.Apply(t, c, d)
	got := framework.WaitForDeploymentAvailable(t, c, ns, "web", slow)
	if got.Status.ReadyReplicas != 2 {
		t.Errorf("ready replicas = %d, want 2", got.Status.ReadyReplicas)
	}
}

func TestSmokeStatefulSetAndDaemonSetBecomeReady(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	s := framework.Ready(framework.StatefulSet(ns, "db"))
	framework.Apply(t, c, s)
	framework.Apply(t, c, framework.DaemonSet(ns, "agent"))
	framework.WaitForStatefulSetReady(t, c, ns, "db", slow)
	framework.WaitForDaemonSetReady(t, c, ns, "agent", slow)
}

func TestSmokeCrashLoopBackOff(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	const line = "FATAL: cannot load config /etc/app/config.yaml: no such file or directory"
	d := framework.Deployment(ns, "crasher", "--print-stderr", line, "--exit-code", "1")
	framework.Apply(t, c, d)
	pod := framework.WaitForPod(t, c, ns, framework.Selector("crasher"), slow, "waiting CrashLoopBackOff after exit 1", func(p *corev1.Pod) bool {
		cs := framework.ContainerStatus(p, "app")
		return framework.WaitingReason(cs) == "CrashLoopBackOff" &&
			cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode == 1
	})
	framework.WaitForLogs(t, c, ns, pod.Name, "app", true, time.Minute, line)
}

func TestSmokeOOMKilled(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "hog", "--alloc-mb", "200")
	d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("", "32Mi")
	framework.Apply(t, c, d)
	framework.WaitForPod(t, c, ns, framework.Selector("hog"), slow, "container OOMKilled with exit code 137", func(p *corev1.Pod) bool {
		term := framework.LastTermination(framework.ContainerStatus(p, "app"))
		return term != nil && term.Reason == "OOMKilled" && term.ExitCode == 137
	})
}

func TestSmokeMissingSecret(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "needs-secret", "--require-env", "DB_PASSWORD")
	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.EnvFromSecret("DB_PASSWORD", "db-credentials", "password")}
	framework.Apply(t, c, d)
	framework.WaitForPod(t, c, ns, framework.Selector("needs-secret"), slow, "waiting CreateContainerConfigError", func(p *corev1.Pod) bool {
		return framework.WaitingReason(framework.ContainerStatus(p, "app")) == "CreateContainerConfigError"
	})
	framework.WaitForEvent(t, c, ns, slow, `event naming secret "db-credentials" not found`, func(e *corev1.Event) bool {
		return e.InvolvedObject.Kind == "Pod" && strings.Contains(e.Message, `secret "db-credentials" not found`)
	})
}

func TestSmokeLivenessProbeKillsAndRestarts(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "unhealthy")
	d.Spec.Template.Spec.Containers[0].LivenessProbe = framework.HTTPProbe("/wrong-path")
	framework.Apply(t, c, d)
	framework.WaitForPod(t, c, ns, framework.Selector("unhealthy"), slow, "restarted by the liveness probe", func(p *corev1.Pod) bool {
		cs := framework.ContainerStatus(p, "app")
		return cs != nil && cs.RestartCount >= 1
	})
	for _, reason := range []string{"Unhealthy", "Killing"} {
		e := framework.WaitForEvent(t, c, ns, slow, reason+" event for the liveness probe", func(e *corev1.Event) bool {
			return e.Reason == reason && e.InvolvedObject.Kind == "Pod"
		})
		if reason == "Unhealthy" && !strings.Contains(e.Message, "Liveness probe failed") {
			t.Errorf("Unhealthy event message = %q, want a liveness probe failure", e.Message)
		}
	}
}

func TestSmokeInitContainerCrashLoop(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "migrations")
	d.Spec.Template.Spec.InitContainers = []corev1.Container{
		framework.Container("migrate", "--print-stderr", "migration 42 failed: relation \"users\" already exists", "--exit-code", "1"),
	}
	framework.Apply(t, c, d)
	// kubectl shows this pod as Init:CrashLoopBackOff.
	pod := framework.WaitForPod(t, c, ns, framework.Selector("migrations"), slow, "init container in CrashLoopBackOff", func(p *corev1.Pod) bool {
		cs := framework.ContainerStatus(p, "migrate")
		return framework.WaitingReason(cs) == "CrashLoopBackOff" && framework.LastTermination(cs) != nil &&
			framework.LastTermination(cs).ExitCode == 1
	})
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("pod phase = %s, want Pending while its init container fails", pod.Status.Phase)
	}
	framework.WaitForLogs(t, c, ns, pod.Name, "migrate", true, time.Minute, "migration 42 failed")
}
