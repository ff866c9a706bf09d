//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 13, Jobs: a migration Job applied with the release is judged like the rollouts next to
// it. It is healthy when it completes, fails at once on its Failed condition, and fails sooner by
// the pod rules (a crash loop under restartPolicy OnFailure) with the failed pod's log as evidence.

// migrationJob is a Job of the test app run with args, with restartPolicy rp and backoffLimit.
func migrationJob(namespace, name string, rp corev1.RestartPolicy, backoffLimit int32, args ...string) *batchv1.Job {
	tpl := framework.PodTemplate(name, args...)
	tpl.Spec.RestartPolicy = rp
	tpl.Spec.Containers[0].Name = "migrate"
	tpl.Spec.Containers[0].Ports = nil
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: framework.Labels(name)},
		Spec:       batchv1.JobSpec{BackoffLimit: ptr.To(backoffLimit), Template: tpl},
	}
}

// createJob creates the Job once the gate binary is built, so that the gate starts watching it
// moments later rather than after a build.
func createJob(t *testing.T, c kubernetes.Interface, j *batchv1.Job) {
	t.Helper()
	framework.GateBinary(t)
	if _, err := c.BatchV1().Jobs(j.Namespace).Create(context.Background(), j, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create job %s: %v", j.Name, err)
	}
}

// wantJobFailed checks exit 1, job/NAME failed with reason, and logs the figures.
func wantJobFailed(t *testing.T, run gateRun, ref, reason string) report.Workload {
	t.Helper()
	run.mustEnd(t, 1, report.VerdictFailed)
	w := run.workload(t, ref)
	if w.Verdict != report.VerdictFailed || w.Reason != reason {
		t.Fatalf("%s: verdict %s reason %q (%s), want failed %s", ref, w.Verdict, w.Reason, w.Message, reason)
	}
	cause := ""
	if len(w.Findings) > 0 {
		cause = string(w.Findings[0].Cause)
	}
	t.Logf("%s: %s %s, cause %q, decided after %.1fs, gate run %s: %s", ref, w.Verdict, w.Reason, cause,
		float64(w.Duration), run.Duration.Round(time.Millisecond), w.Message)
	return w
}

// findingLogs is every log line the findings quote.
func findingLogs(w report.Workload) string {
	var b strings.Builder
	for _, f := range w.Findings {
		if f.Logs != nil {
			b.WriteString(strings.Join(f.Logs.Lines, "\n") + "\n")
		}
	}
	return b.String()
}

func TestJobMigrationThatSucceedsPasses(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyNever, 1,
		"--print", "migrating schema to v42", "--exit-code", "0", "--delay", "5s"))

	run := runGate(t, "-n", ns, "--workload", "job/migrate")
	run.mustEnd(t, 0, report.VerdictHealthy)
	w := run.workload(t, "job/migrate")
	if w.Reason != "Complete" || !strings.Contains(w.Message, "job complete: 1/1 succeeded") {
		t.Errorf("job/migrate reason %q message %q, want Complete and 1/1 succeeded", w.Reason, w.Message)
	}
	// No soak after completion: the verdict follows the Complete condition.
	if strings.Contains(run.Stderr, "soaking") {
		t.Errorf("a completed Job was soaked:\n%s", run.Stderr)
	}
	t.Logf("job/migrate healthy after %.1fs, gate run %s (watched while active: %v)", float64(w.Duration),
		run.Duration.Round(time.Millisecond), strings.Contains(run.Stderr, "1 active"))
}

// TestJobRecreatedIsJudgedByItsNewUID: the failed Job "migrate" is deleted with its pods orphaned
// (they keep the job-name label) and created again under the same name: the gate judges the new
// Job, by its uid, and never the old Job's failed pod.
func TestJobRecreatedIsJudgedByItsNewUID(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyNever, 0, "--print-stderr", "FATAL: old migration", "--exit-code", "1"))
	framework.WaitFor(t, 2*time.Minute, "the first job/migrate to fail", func(ctx context.Context) (bool, error) {
		j, err := c.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range j.Status.Conditions {
			if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	orphan := metav1.DeletePropagationOrphan
	if err := c.BatchV1().Jobs(ns).Delete(ctx, "migrate", metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		t.Fatalf("delete job/migrate: %v", err)
	}
	framework.WaitFor(t, time.Minute, "job/migrate to be gone", func(ctx context.Context) (bool, error) {
		_, err := c.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	old, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=migrate"})
	if err != nil || len(old.Items) != 1 {
		t.Fatalf("want the old Job's one pod left behind, got %v (%v)", old, err)
	}
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyNever, 0, "--print", "migrated", "--exit-code", "0", "--delay", "2s"))

	run := runGate(t, "-n", ns, "--workload", "job/migrate")
	run.mustEnd(t, 0, report.VerdictHealthy, "the old Job's failed pod was judged")
	if strings.Contains(run.Stderr, old.Items[0].Name) {
		t.Errorf("the progress names the old Job's pod %s:\n%s", old.Items[0].Name, run.Stderr)
	}
}

func TestJobCrashLoopOnFailureFailsFastWithItsLog(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyOnFailure, 6,
		"--print-stderr", "FATAL: relation \"users\" already exists", "--exit-code", "1"))

	run := runGate(t, "-n", ns, "--workload", "jobs/migrate")
	w := wantJobFailed(t, run, "job/migrate", "CrashLoopBackOff")
	if got := findingLogs(w); !strings.Contains(got, `FATAL: relation "users" already exists`) {
		t.Errorf("the report does not quote the job's log line; findings logs:\n%s", got)
	}
	if !strings.Contains(run.Stdout, `FATAL: relation "users" already exists`) {
		t.Errorf("the text report does not show the log line:\n%s", run.Stdout)
	}
	// backoffLimit 6 under OnFailure lets the kubelet restart it for minutes (10 s, 20 s, 40 s,
	// ... back-off): the reason CrashLoopBackOff, not BackoffLimitExceeded, says the pod rules
	// answered first (wantJobFailed logs when).
}

func TestJobBackoffLimitExceededFailsWithTheFailedPodsCause(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyNever, 1,
		"--require-int-env", "DATABASE_PORT"))

	run := runGate(t, "-n", ns, "--workload", "job.batch/migrate")
	w := wantJobFailed(t, run, "job/migrate", "BackoffLimitExceeded")
	if !strings.Contains(w.Message, "backoff limit") || !strings.Contains(w.Message, "exited 1") {
		t.Errorf("message %q does not quote the Job's condition and the failed pods' exits", w.Message)
	}
	if len(w.Findings) == 0 || w.Findings[0].Pod == "" {
		t.Fatalf("no finding on a failed pod: %+v", w.Findings)
	}
	if got := findingLogs(w); !strings.Contains(got, "FATAL: required environment variable DATABASE_PORT is not set") {
		t.Errorf("the cause is not taken from the failed pod's log; findings %+v", w.Findings)
	}
	// A Job's pod template cannot change in place, and kubectl rollout does not know Jobs.
	fixes := strings.Join(w.Findings[0].Fix, "\n")
	if strings.Contains(fixes, "kubectl set env job/") || strings.Contains(fixes, "rollout status job/") ||
		!strings.Contains(fixes, "kubectl wait --for=condition=complete job/migrate") {
		t.Errorf("the fix is not one a Job can take:\n%s", fixes)
	}
	failedPods := 0
	for _, p := range w.Pods {
		if p.Phase == string(corev1.PodFailed) {
			failedPods++
		}
	}
	if failedPods != 2 {
		t.Errorf("%d failed pods in the report, want 2 (backoffLimit 1: two attempts)", failedPods)
	}
}

func TestJobAndDeploymentInOneManifest(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "api"))
	framework.Apply(t, c, d)
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyNever, 1, "--print", "migrated", "--exit-code", "0", "--delay", "2s"))
	manifest := writeManifest(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: %[1]s}
`, ns))

	run := runGate(t, "-f", manifest, "--soak", "2s")
	run.mustEnd(t, 0, report.VerdictHealthy)
	for ref, line := range map[string]int{"job/migrate": 1, "deployment/api": 5} {
		w := run.workload(t, ref)
		if w.Verdict != report.VerdictHealthy || w.Source == nil || w.Source.Line != line {
			t.Errorf("%s: verdict %s source %+v, want healthy at manifest line %d", ref, w.Verdict, w.Source, line)
		}
		t.Logf("%s: %s after %.1fs (%s)", ref, w.Verdict, float64(w.Duration), w.Message)
	}
}

// TestJobRollbackIsNotApplicable: with --rollback, the failed Deployment goes back to v1 and the
// failed Job is reported as not rollbackable and left as it was.
func TestJobRollbackIsNotApplicable(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	ctx := t.Context()
	brokenRelease(t, c, ns, "api")
	createJob(t, c, migrationJob(ns, "migrate", corev1.RestartPolicyOnFailure, 6, "--print-stderr", "FATAL: migration 42 failed", "--exit-code", "1"))
	before, err := c.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// --wait-all: both must fail; by default the first failure would interrupt the other.
	run := runGate(t, "-n", ns, "--workload", "deployment/api", "--workload", "job/migrate",
		"--rollback", "--rollback-timeout", "3m", "--soak", "3s", "--wait-all")
	rolledBack(t, run, "deployment/api")
	w := wantJobFailed(t, run, "job/migrate", "CrashLoopBackOff")
	rb := w.Rollback
	if rb == nil || rb.Status != report.RollbackSkipped || rb.Undone || !strings.Contains(rb.Message, "rollback does not apply to a Job") {
		t.Fatalf("job/migrate rollback %+v, want skipped, not undone, saying a Job has no rollback", rb)
	}
	if !strings.Contains(run.Stdout, "rollback does not apply to a Job") {
		t.Errorf("the text report does not say the Job is not rolled back:\n%s", run.Stdout)
	}
	after, err := c.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get job after the gate: %v", err)
	}
	if after.UID != before.UID || after.Generation != before.Generation {
		t.Errorf("the Job was touched: uid %s generation %d, was %s %d", after.UID, after.Generation, before.UID, before.Generation)
	}
	t.Logf("job/migrate rollback: %s: %s", rb.Status, rb.Message)
}

// Issue 26: a Job past its activeDeadlineSeconds fails with its own cause, the deadline, how long
// it ran and what its pod was doing, not cause unknown.
func TestJobDeadlineExceededNamesTheDeadline(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	j := migrationJob(ns, "migrate", corev1.RestartPolicyNever, 0, "--startup-delay", "1h")
	j.Spec.ActiveDeadlineSeconds = ptr.To(int64(8))
	createJob(t, c, j)

	run := runGate(t, "-n", ns, "--workload", "job.batch/migrate")
	w := wantJobFailed(t, run, "job/migrate", "DeadlineExceeded")
	if len(w.Findings) == 0 || w.Findings[0].Cause != report.CauseJobDeadline {
		t.Fatalf("cause is not %s: %+v", report.CauseJobDeadline, w.Findings)
	}
	f := w.Findings[0]
	if !strings.Contains(f.Summary, "activeDeadlineSeconds 8") || !strings.Contains(f.Summary, "ran for") {
		t.Errorf("summary %q does not give the deadline and how long the Job ran", f.Summary)
	}
	// The controller deletes the pods at the deadline: the finding says what the pod was doing if
	// the watch still held it, or that none is left.
	if ev := strings.Join(f.Evidence, "\n"); !strings.Contains(ev, "DeadlineExceeded") ||
		!strings.Contains(ev, "container migrate") && !strings.Contains(ev, "no pod of the Job is left") {
		t.Errorf("evidence does not quote the condition and what the pod was doing:\n%s", ev)
	}
}
