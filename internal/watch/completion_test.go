package watch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
)

// job is the Job "migrate" (uid job-uid) with the given status conditions.
func job(backoffLimit int32, conds ...batchv1.JobCondition) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: "prod", UID: "job-uid", CreationTimestamp: metav1.NewTime(t0)},
		Spec: batchv1.JobSpec{BackoffLimit: ptr(backoffLimit),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: "job-uid"}}},
		Status: batchv1.JobStatus{Conditions: conds},
	}
}

func jobCondition(t batchv1.JobConditionType, reason, msg string) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg}
}

func restartPolicy(rp corev1.RestartPolicy) podOpt {
	return func(p *corev1.Pod) { p.Spec.RestartPolicy = rp }
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// TestEvaluateJob judges Job snapshots: the Job's own conditions decide, the pod rules of any
// rollout fail it sooner, and a pod that ends (an attempt) is never a crash by itself.
func TestEvaluateJob(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second, ReadinessGrace: 15 * time.Second}
	onFailure, never := restartPolicy(corev1.RestartPolicyOnFailure), restartPolicy(corev1.RestartPolicyNever)
	failedAttempt := pod("migrate-a", never, phase(corev1.PodFailed),
		container(corev1.ContainerStatus{Name: "migrate", State: terminated(1, "Error")}))
	tests := []struct {
		name         string
		job          *batchv1.Job
		pods         []*corev1.Pod
		now          time.Time
		wantVerdict  report.Verdict
		wantReason   string
		wantMsg      string // substring
		wantFailing  []string
		wantProgress string // substring
		policy0      bool   // judge with crash-tolerance 0
	}{
		{
			name: "complete is healthy at once, without a soak", job: job(6, jobCondition(batchv1.JobComplete, "", "")),
			pods: []*corev1.Pod{pod("migrate-a", onFailure, phase(corev1.PodSucceeded),
				container(corev1.ContainerStatus{Name: "migrate", State: terminated(0, "Completed")}))},
			now: t0, wantVerdict: report.VerdictHealthy, wantReason: "Complete", wantMsg: "job complete",
		},
		{
			name: "complete after a failed attempt is healthy", job: job(1, jobCondition(batchv1.JobComplete, "", "")),
			pods: []*corev1.Pod{failedAttempt, pod("migrate-b", never, phase(corev1.PodSucceeded),
				container(corev1.ContainerStatus{Name: "migrate", State: terminated(0, "Completed")}))},
			now: t0, wantVerdict: report.VerdictHealthy, wantReason: "Complete",
		},
		{
			name: "Failed with BackoffLimitExceeded fails at once with the condition and the failed pod",
			job:  job(1, jobCondition(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")),
			pods: []*corev1.Pod{failedAttempt},
			now:  t0, wantVerdict: report.VerdictFailed, wantReason: "BackoffLimitExceeded",
			wantMsg:     "job failed: Job has reached the specified backoff limit; migrate-a failed (container migrate exited 1 (Error))",
			wantFailing: []string{"migrate-a"},
		},
		{
			name: "FailureTarget, the controller's decision before Failed, fails at once",
			job:  job(6, jobCondition(batchv1.JobFailureTarget, "DeadlineExceeded", "Job was active longer than specified deadline")),
			pods: []*corev1.Pod{pod("migrate-a", never, container(corev1.ContainerStatus{Name: "migrate", State: running}))},
			now:  t0, wantVerdict: report.VerdictFailed, wantReason: "DeadlineExceeded", wantMsg: "active longer than specified deadline",
		},
		{
			name: "a failed attempt under Never is left to the backoffLimit", job: job(1),
			pods: []*corev1.Pod{failedAttempt, pod("migrate-b", never, container(corev1.ContainerStatus{Name: "migrate", State: running}))},
			now:  t0, wantProgress: "migrate-a failed (container migrate exited 1 (Error))",
		},
		{
			name: "an exit 1 under Never is an attempt even before the pod's phase says Failed", job: job(1),
			pods: []*corev1.Pod{pod("migrate-a", never, container(corev1.ContainerStatus{Name: "migrate", State: terminated(1, "Error")}))},
			now:  t0, policy0: true, wantProgress: "migrate-a failed",
		},
		{
			name: "a crash loop under OnFailure fails at the second crash", job: job(6),
			pods: []*corev1.Pod{pod("migrate-a", onFailure, container(corev1.ContainerStatus{Name: "migrate", RestartCount: 1,
				State: waiting("CrashLoopBackOff", "back-off 10s"), LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantMsg: "container migrate crashed 2 times",
			wantFailing: []string{"migrate-a"},
		},
		{
			name: "one crash, then an exit 0 under OnFailure, is not a crash loop", job: job(6),
			pods: []*corev1.Pod{pod("migrate-a", onFailure, container(corev1.ContainerStatus{Name: "migrate", RestartCount: 1,
				State: terminated(0, "Completed"), LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantProgress: "0/1 succeeded",
		},
		{
			name: "a fatal waiting reason fails at once", job: job(6),
			pods: []*corev1.Pod{pod("migrate-a", never, phase(corev1.PodPending), container(corev1.ContainerStatus{Name: "migrate",
				State: waiting("CreateContainerConfigError", `secret "db" not found`)}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CreateContainerConfigError", wantMsg: `secret "db" not found`,
			wantFailing: []string{"migrate-a"},
		},
		{
			name: "unschedulable past the grace fails", job: job(6),
			pods: []*corev1.Pod{pod("migrate-a", never, phase(corev1.PodPending), func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
					Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes are available", LastTransitionTime: metav1.NewTime(t0)}}
			})},
			now: t0.Add(31 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "Unschedulable",
		},
		{
			name: "running is in progress", job: job(6),
			pods: []*corev1.Pod{pod("migrate-a", never, ready, container(corev1.ContainerStatus{Name: "migrate", Ready: true, State: running}))},
			now:  t0, wantProgress: "0/1 succeeded, 0 active, 0 failed (backoff limit 6)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := policy
			if tt.policy0 {
				p.CrashTolerance = 0 // an ended attempt must not count as a crash even with no tolerance
			}
			j := Evaluate(Snapshot{Object: tt.job, Pods: tt.pods}, p, tt.now)
			if j.Verdict != tt.wantVerdict || (tt.wantReason != "" && j.Reason != tt.wantReason) {
				t.Fatalf("verdict %q reason %q (%s), want %q %q", j.Verdict, j.Reason, j.Message, tt.wantVerdict, tt.wantReason)
			}
			if !strings.Contains(j.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", j.Message, tt.wantMsg)
			}
			if tt.wantFailing != nil && !slices.Equal(j.Failing, tt.wantFailing) {
				t.Errorf("failing = %v, want %v", j.Failing, tt.wantFailing)
			}
			if !strings.Contains(j.Progress, tt.wantProgress) {
				t.Errorf("progress = %q, want it to contain %q", j.Progress, tt.wantProgress)
			}
			if j.Verdict == report.VerdictHealthy && (j.Soaking || !j.RecheckAt.IsZero()) {
				t.Errorf("a complete Job soaks (soaking %v, recheck %s): it has finished", j.Soaking, j.RecheckAt)
			}
		})
	}
}

// jobPod is a pod of the Job with uid, as the Job controller makes it: owned and labelled by uid.
func jobPod(name string, uid types.UID, st corev1.ContainerStatus, ph corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod", UID: types.UID(name),
			Labels:          map[string]string{batchv1.ControllerUidLabel: string(uid), "job-name": "migrate"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "migrate", UID: uid, Controller: ptr(true)}}},
		Spec:   corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure},
		Status: corev1.PodStatus{Phase: ph, ContainerStatuses: []corev1.ContainerStatus{st}},
	}
}

var migrateJob = target.Target{Kind: target.Job, Namespace: "prod", Name: "migrate"}

// TestWatchJudgesARecreatedJobByItsUID: the Job "migrate" was deleted and created again; the
// crash-looping pod of its predecessor (same name, same job-name label, other uid) is still there.
// The watch must judge the new Job's pod only, and be healthy when it completes.
func TestWatchJudgesARecreatedJobByItsUID(t *testing.T) {
	t.Parallel()
	j := job(6)
	j.UID = "new-uid"
	j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = "new-uid"
	old := jobPod("migrate-old", "old-uid", corev1.ContainerStatus{Name: "migrate", RestartCount: 5,
		State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}, corev1.PodRunning)
	cur := jobPod("migrate-new", "new-uid", corev1.ContainerStatus{Name: "migrate", State: running}, corev1.PodRunning)
	client := fake.NewSimpleClientset(j, old, cur)
	progress := newSyncWriter()
	w := &Watcher{Client: kubetest.Wrap(client), Policy: DefaultPolicy(), Timeout: time.Minute, Progress: progress}
	out := make(chan outcome, 1)
	go func() {
		res, err := w.Watch(context.Background(), []target.Target{migrateJob})
		out <- outcome{res, err}
	}()
	waitLine(t, progress.lines, "job/migrate: 0/1 succeeded")

	done := j.DeepCopy()
	done.Status = batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobComplete, "", "")}}
	if _, err := client.BatchV1().Jobs("prod").UpdateStatus(context.Background(), done, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := waitResults(t, out)
	if len(res) != 1 || res[0].Verdict != report.VerdictHealthy {
		t.Fatalf("results %+v, want job/migrate healthy", res)
	}
	if pods := res[0].Pods; len(pods) != 1 || pods[0].Name != "migrate-new" {
		t.Errorf("judged pods %v, want only migrate-new of the new uid", pods)
	}
	if strings.Contains(progress.b.String(), "migrate-old") {
		t.Errorf("the old Job's pod reached the progress:\n%s", progress.b.String())
	}
}

// TestWatchOfAJobChecksAccessToJobs: the watch lists jobs.batch before it starts, so a missing
// RBAC rule is said plainly; and deploy/rbac.yaml's read-only role grants what that needs.
func TestWatchOfAJobChecksAccessToJobs(t *testing.T) {
	t.Parallel()
	client := fake.NewSimpleClientset(job(6))
	client.PrependReactor("list", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(batchv1.Resource("jobs"), "", errors.New(`User "ci" cannot list resource "jobs"`))
	})
	forbiddenWatch(t, client, migrateJob, "list jobs -n prod", "apiGroups: [batch]", "resources: [jobs]", "verbs: [list]")

	granted := map[string]bool{}
	for _, r := range readRules(t) {
		if slices.Contains(r.APIGroups, "batch") && slices.Contains(r.Resources, "jobs") {
			for _, v := range r.Verbs {
				granted[v] = true
			}
		}
	}
	for _, verb := range []string{"get", "list", "watch"} {
		if !granted[verb] {
			t.Errorf("deploy/rbac.yaml: role rollout-gate-read does not grant %s on jobs.batch", verb)
		}
	}
}

// TestWatchTimeoutOfAJobSaysTheJobIsIncomplete: a Job runs to completion, it does not roll out,
// and its timeout message says so.
func TestWatchTimeoutOfAJobSaysTheJobIsIncomplete(t *testing.T) {
	t.Parallel()
	cur := jobPod("migrate-x", "job-uid", corev1.ContainerStatus{Name: "migrate", State: running}, corev1.PodRunning)
	w := &Watcher{Client: kubetest.Client(job(6), cur), Policy: DefaultPolicy(), Timeout: time.Second}
	res, err := w.Watch(context.Background(), []target.Target{migrateJob})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Verdict != report.VerdictTimeout {
		t.Fatalf("results %+v, want job/migrate timed out", res)
	}
	if msg := res[0].Message; !strings.HasPrefix(msg, "job incomplete after 1s: 0/1 succeeded") || strings.Contains(msg, "rollout") {
		t.Errorf("message %q, want it to start %q and not to speak of a rollout", msg, "job incomplete after 1s: 0/1 succeeded")
	}
}
