package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Every recorded failure, through the whole Diagnose path: the cause matches, the result is
// complete, and it marshals to JSON.
func TestDiagnoseFixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range classifyCases() {
		if tc.editEvidence != nil {
			continue // edits gathered evidence; covered by TestClassify
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, in := tc.setup(t)
			res, err := d.Diagnose(context.Background(), in)
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			checkFindings(t, res.Findings, tc.want)
			if len(in.Pods) > 0 && len(res.Pods) == 0 {
				t.Error("no pods in the result")
			}
			if res.Changes == nil {
				t.Error("Changes must be an empty list, not nil, on a first deploy")
			}
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

// No Secret value, long or short, reaches any part of the result.
func TestDiagnoseNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	res := sealed(diagnosed(t, "masking"))
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, leak := range []string{"s3cur3P@ss!", "czNjdXIzUEBzcyE=", "tok_live_9f8e7d6c5b", "dG9rX2xpdmVfOWY4ZTdkNmM1Yg==", `API_PIN=ab`, `API_PIN: \"ab\"`} {
		if strings.Contains(out, leak) {
			t.Errorf("result leaks %q:\n%s", leak, out)
		}
	}
	for _, m := range []string{"[secret DB_PASSWORD redacted]", "[secret TOKEN redacted]", "[secret API_PIN redacted]"} {
		if !strings.Contains(out, m) {
			t.Errorf("result lacks marker %q", m)
		}
	}
	// The event message and the termination message are masked too.
	if len(res.Events) == 0 || !strings.Contains(res.Events[0].Message, "[secret DB_PASSWORD redacted]") {
		t.Errorf("event not masked: %+v", res.Events)
	}
	if lt := res.Pods[0].Containers[0].LastState; lt == nil || !strings.Contains(lt.Message, "[secret TOKEN redacted]") {
		t.Errorf("termination message not masked: %+v", lt)
	}
	f := res.Findings[0]
	if f.Cause != report.CauseConfigError || !strings.Contains(f.Detail, "not shown: it is a Secret") {
		t.Errorf("config error on a Secret-fed variable must not show the value: %+v", f)
	}
}

// previousLogFailing diagnoses config-error with the read of its previous container's log failing
// the first n times, and returns the log source with the reads it saw.
func previousLogFailing(t *testing.T, n int) (Result, *recordedLogs) {
	t.Helper()
	fx := loadFixture(t, "config-error")
	d, _, rl := fx.diagnoser(nil)
	rl.fails["api-7d4b9c-xkp2z/api"] = n
	return fx.crashLoop(t, d), rl
}

// Previous-container logs can briefly fail right after a crash: the read is retried.
func TestDiagnoseRetriesPreviousLogs(t *testing.T) {
	t.Parallel()
	res, rl := previousLogFailing(t, 2)
	if got := len(rl.calls); got != 3 {
		t.Errorf("log reads = %d (%v), want 3: two failures, then success", got, rl.calls)
	}
	for _, c := range rl.calls {
		if !strings.Contains(c, "previous=true tail=50") {
			t.Errorf("read %q, want the previous container's last 50 lines", c)
		}
	}
	if f := res.Findings[0]; f.Cause != report.CauseConfigError || f.Logs == nil || !f.Logs.Previous {
		t.Errorf("finding = %+v, want a config error with the previous log", f)
	}
}

// When the previous log stays unreadable, the current one is used and the report says so.
func TestDiagnoseFallsBackToCurrentLogs(t *testing.T) {
	t.Parallel()
	res, rl := previousLogFailing(t, 100)
	f := res.Findings[0]
	if f.Logs == nil || f.Logs.Previous {
		t.Fatalf("want the current log as a fallback, got %+v", f.Logs)
	}
	if !containsSub(f.Evidence, "could not read the previous container's log (unable to retrieve container logs") {
		t.Errorf("evidence does not say the previous log was unreadable: %v", f.Evidence)
	}
	if last := rl.calls[len(rl.calls)-1]; !strings.Contains(last, "previous=false") {
		t.Errorf("last read %q, want the current log", last)
	}
}

// API failures while gathering become evidence; the diagnosis still names what it can.
func TestDiagnoseDegradesOnForbidden(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "missing-secret")
	d, cs, rl := fx.diagnoser(nil)
	forbid := func(verb, resource string) {
		cs.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("rollout-gate cannot "+verb+" "+resource))
		})
	}
	forbid("list", "events")
	forbid("get", "secrets")
	forbid("list", "replicasets")
	rl.err["api-7d4b9c-xkp2z/api"] = errors.New("pods \"api-7d4b9c-xkp2z\" is forbidden: cannot get pods/log")
	res, err := d.Diagnose(context.Background(), fx.input("CreateContainerConfigError"))
	if err != nil {
		t.Fatalf("Diagnose must not fail on forbidden reads: %v", err)
	}
	f := res.Findings[0]
	if f.Cause != report.CauseMissingSecret {
		t.Fatalf("cause = %s, want missing-secret from the kubelet's message", f.Cause)
	}
	for _, s := range []string{"could not read events of pod/api-7d4b9c-xkp2z", "could not list ReplicaSets of deployment/api", "could not read Secret production/api-db-credentials"} {
		if !containsSub(f.Evidence, s) {
			t.Errorf("evidence lacks %q:\n%s", s, strings.Join(f.Evidence, "\n"))
		}
	}
	if !strings.Contains(f.Detail, "the gate could not check") {
		t.Errorf("detail should say existence was not verified: %q", f.Detail)
	}
}

func TestDiagnoseLogReadError(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "unknown")
	d, _, rl := fx.diagnoser(nil)
	rl.err["api-7d4b9c-xkp2z/api"] = errors.New("pods \"api-7d4b9c-xkp2z\" is forbidden: User cannot get resource pods/log")
	res := fx.crashLoop(t, d)
	if f := res.Findings[0]; !containsSub(f.Evidence, "could not read logs: pods \"api-7d4b9c-xkp2z\" is forbidden") {
		t.Errorf("evidence lacks the log read error: %v", f.Evidence)
	}
	if len(rl.calls) != 1 {
		t.Errorf("a forbidden read is not retried: %d calls", len(rl.calls))
	}
}

func TestDiagnoseCancelled(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "config-error")
	d, _, _ := fx.diagnoser(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Diagnose(ctx, fx.input("CrashLoopBackOff")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// Only events since the rollout began count, grouped, from the pod and its owners.
func TestDiagnoseEventsSinceRollout(t *testing.T) {
	t.Parallel()
	res := diagnosed(t, "config-error")
	if len(res.Events) != 1 || res.Events[0].Count != 6 || res.Events[0].Object != "pod/api-7d4b9c-xkp2z" {
		t.Errorf("events = %+v, want only the BackOff seen since the rollout began", res.Events)
	}
	if res.Revision != "2" || len(res.Changes) != 1 || res.Changes[0].Path != "containers[api].env[DATABASE_PORT]" {
		t.Errorf("revision %q changes %+v", res.Revision, res.Changes)
	}
	var whats []string
	kinds := map[string]report.MomentKind{}
	for _, m := range res.Timeline {
		whats = append(whats, m.What)
		kinds[m.What] = m.Kind
		if m.At.Before(time.Date(2026, 4, 4, 8, 10, 0, 0, time.UTC)) {
			t.Errorf("timeline has a moment before the rollout: %+v", m)
		}
	}
	for want, kind := range map[string]report.MomentKind{
		"rollout of revision 2 began":                              report.MomentRollout,
		"pod api-7d4b9c-xkp2z created":                             report.MomentPod,
		"container api of pod api-7d4b9c-xkp2z terminated: exit 1": report.MomentCrash,
	} {
		if !contains(whats, want) {
			t.Errorf("timeline lacks %q: %v", want, whats)
		} else if kinds[want] != kind {
			t.Errorf("moment %q has kind %q, want %q", want, kinds[want], kind)
		}
	}
	if p := res.Pods[0]; p.Reason != "CrashLoopBackOff" || p.Containers[0].LastState == nil || p.Containers[0].LastState.Meaning == "" {
		t.Errorf("pod = %+v", p)
	}
}

func TestDiagnoseStatefulSetRevision(t *testing.T) {
	t.Parallel()
	res := diagnosed(t, "statefulset")
	if res.Revision != "2" {
		t.Errorf("revision = %q, want the ControllerRevision number 2", res.Revision)
	}
	want := []report.Change{ // sorted by path, as every template diff is
		{Path: "containers[web].env[CACHE_SIZE_MB]", Before: `"512"`, After: `"lots"`},
		{Path: "containers[web].image", Before: "registry.example.com/web:3.0", After: "registry.example.com/web:3.1"},
	}
	if len(res.Changes) != len(want) || res.Changes[0] != want[0] || res.Changes[1] != want[1] {
		t.Errorf("changes = %+v, want %+v", res.Changes, want)
	}
}

// Many replicas: a few are examined, the finding says how many share it, reads stay bounded.
func TestDiagnoseCapsAndConcurrency(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "config-error")
	base := fx.pods[0]
	fx.pods = nil
	for i := range 12 {
		p := *base.DeepCopy()
		p.Name = fmt.Sprintf("api-7d4b9c-%02d", i)
		fx.pods = append(fx.pods, p)
	}
	logs := map[string]string{}
	for _, p := range fx.pods {
		logs[logKey(p.Name, "api")] = fx.logs[logKey("api-7d4b9c-xkp2z", "api")]
	}
	d, _, _ := fx.diagnoser(logs)
	counting := &countingLogs{inner: d.Logs}
	d.Logs = counting
	d.Concurrency = 2
	d.LogLines = 1
	res := fx.crashLoop(t, d)
	if got := counting.calls.Load(); got != maxExaminedPods {
		t.Errorf("log reads = %d, want one per examined pod (%d)", got, maxExaminedPods)
	}
	if got := counting.max.Load(); got > 2 || got < 1 {
		t.Errorf("max concurrent reads = %d, want 1..2", got)
	}
	if len(res.Findings) != 1 || !containsSub(res.Findings[0].Evidence, "seen in 5 of 12 pods of this revision") {
		t.Errorf("findings = %s", dump(res.Findings))
	}
	if f := res.Findings[0]; f.Logs == nil || len(f.Logs.Lines) != 1 || !f.Logs.Truncated {
		t.Errorf("log excerpt = %+v, want the last LogLines=1 line, truncated", f.Logs)
	}
	if len(res.Pods) != 12 {
		t.Errorf("pods = %d, want all 12 (under the report cap)", len(res.Pods))
	}
}

type countingLogs struct {
	inner           LogSource
	calls, inFlight atomic.Int32
	max             atomic.Int32
}

func (c *countingLogs) Logs(ctx context.Context, ns, pod, container string, previous bool, tail int64) ([]byte, error) {
	c.calls.Add(1)
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	return c.inner.Logs(ctx, ns, pod, container, previous, tail)
}

// The real log source asks the API server for pods/log with the tail, the previous flag and
// timestamps, and returns the body.
func TestClientLogs(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	var opts *corev1.PodLogOptions
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ga, ok := a.(k8stesting.GenericActionImpl)
		if !ok || a.GetSubresource() != "log" {
			return false, nil, nil
		}
		opts, _ = ga.Value.(*corev1.PodLogOptions)
		return true, &runtime.Unknown{Raw: []byte("2026-04-04T08:15:01Z FATAL boom\n")}, nil
	})
	b, err := ClientLogs{Client: kubetest.Wrap(cs)}.Logs(context.Background(), "production", "api-1", "api", true, 25)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "2026-04-04T08:15:01Z FATAL boom\n" {
		t.Errorf("got %q", b)
	}
	if opts == nil || !opts.Previous || *opts.TailLines != 25 || !opts.Timestamps || opts.Container != "api" || *opts.LimitBytes != maxLogBytes {
		t.Errorf("options = %+v", opts)
	}
}

func TestDiagnoseWithoutClientOrWorkload(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "oom-killed")
	d := &Diagnoser{LogLines: 50, Now: func() time.Time { return fixtureNow }}
	res, err := d.Diagnose(context.Background(), Input{Pods: fx.pods, Reason: "CrashLoopBackOff"})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Findings[0]
	if f.Cause != report.CauseOOMKilled || !containsSub(f.Evidence, "no Kubernetes client") {
		t.Errorf("finding = %s", dump(res.Findings))
	}
	// Without a workload, fix commands cannot name it and say so with a placeholder.
	if !containsSub(f.Fix, "kubectl set resources '<workload>' -c worker --limits=memory=512Mi -n production") {
		t.Errorf("fix = %v", f.Fix)
	}
}

// A rollout that created no pods and has no telling events still gets a plain finding.
func TestClassifyUnknownWorkload(t *testing.T) {
	t.Parallel()
	ev := &evidence{Kind: "Deployment", Namespace: "production", Name: "api", Reason: "ProgressDeadlineExceeded",
		Message: `ReplicaSet "api-7d4b9c" has timed out progressing.`}
	got := classify(ev)
	if len(got) != 1 || got[0].Cause != report.CauseUnknown || !strings.Contains(got[0].Summary, "deployment/api failed (ProgressDeadlineExceeded) and no pod evidence names a cause") ||
		!contains(got[0].Evidence, "no pods of the new revision exist") {
		t.Errorf("got %s", dump(got))
	}
	// A rollout that ran out of time did not fail: the summary must not say it did.
	ev.Verdict, ev.Reason = report.VerdictTimeout, "Timeout"
	if got := classify(ev); len(got) != 1 || !strings.Contains(got[0].Summary, "deployment/api did not finish in time (Timeout)") {
		t.Errorf("timeout: got %s", dump(got))
	}
}

// CreateContainerConfigError with the kubelet's transient cache message: the Secret exists, so
// the diagnosis must not invent a missing Secret.
func TestClassifyTransientConfigError(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "missing-secret-key")
	fx.pods[0].Status.ContainerStatuses[0].State.Waiting.Message = "failed to sync secret cache: timed out waiting for the condition"
	d, cs, _ := fx.diagnoser(nil)
	// The key exists after all: make the Secret complete.
	s, err := cs.CoreV1().Secrets("production").Get(context.Background(), "api-db-credentials", metav1GetOptions())
	if err != nil {
		t.Fatal(err)
	}
	s.Data["DB_PASSWORD"] = []byte("p4ssw0rd-value")
	if _, err := cs.CoreV1().Secrets("production").Update(context.Background(), s, metav1UpdateOptions()); err != nil {
		t.Fatal(err)
	}
	in := fx.input("CreateContainerConfigError")
	// Drop the event that names the key.
	ev, err := d.gather(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	ev.Events = nil
	got := classify(ev)
	if got[0].Cause != report.CauseUnknown || !strings.Contains(got[0].Detail, "usually means the kubelet has not yet synced") {
		t.Errorf("got %s", dump(got))
	}
}

// --log-lines 0: no log is read, so no log text can reach any part of the result.
func TestDiagnoseNoLogLines(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "dependency")
	d, _, rl := fx.diagnoser(nil)
	d.LogLines = 0
	res := fx.crashLoop(t, d)
	if len(rl.calls) != 0 {
		t.Errorf("logs were read: %v", rl.calls)
	}
	js, _ := json.Marshal(res)
	for _, line := range strings.Split(strings.TrimSpace(fx.logs[logKey(fx.pods[0].Name, "api")]), "\n") {
		_, text, _ := strings.Cut(line, " ")
		if strings.Contains(string(js), text) {
			t.Errorf("log line %q is in the result", text)
		}
	}
}

// Every referenced Secret is read for masking, past the old cap of 20, including one that only
// the live pod names (a webhook injected it), and its value shows nowhere in the result.
func TestDiagnoseMasksEverySecret(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "app-crash")
	d := fx.workload.(*appsv1.Deployment)
	c := &d.Spec.Template.Spec.Containers[0]
	for i := range 25 {
		name := fmt.Sprintf("s%02d", i)
		c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("V%02d", i), ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "k"}}})
		fx.objs = append(fx.objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace},
			Data: map[string][]byte{"k": []byte(fmt.Sprintf("value-of-secret-%02d", i))}})
	}
	for _, o := range fx.objs { // the new revision's ReplicaSet has the same template
		if rs, ok := o.(*appsv1.ReplicaSet); ok && rs.Name == "api-9a0b1c" {
			rs.Spec.Template.Spec.Containers[0].Env = c.Env
		}
	}
	fx.objs = append(fx.objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "injected", Namespace: d.Namespace},
		Data: map[string][]byte{"t": []byte("injected-by-webhook-77")}})
	pod := &fx.pods[0]
	pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "VAULT", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "injected"}, Key: "t"}}})
	log := "2026-04-04T08:15:01Z starting with value-of-secret-24 and injected-by-webhook-77\n2026-04-04T08:15:02Z FATAL: boom\n"
	dg, _, _ := fx.diagnoser(map[string]string{logKey(pod.Name, pod.Spec.Containers[0].Name): log})
	res := sealed(fx.crashLoop(t, dg))
	js, _ := json.Marshal(res)
	if !strings.Contains(string(js), "[secret V24 redacted]") || !strings.Contains(string(js), "[secret VAULT redacted]") {
		t.Fatalf("the log line is not in the result masked, so the test proves nothing:\n%s", js)
	}
	for _, v := range []string{"value-of-secret-24", "injected-by-webhook-77"} {
		if strings.Contains(string(js), v) {
			t.Errorf("%s is in the result", v)
		}
	}
}

// The quoted line is the summary, so it is masked and trimmed like every other string.
func TestSelfReportedLineIsMaskedAndTrimmed(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "masking")
	d, _, _ := fx.diagnoser(map[string]string{
		"api-7d4b9c-xkp2z/api": "2026-04-04T08:15:01.000000000Z   token tok_live_9f8e7d6c5b rejected by the auth service, exiting  \n",
	})
	res := fx.crashLoop(t, d)
	f := res.Findings[0]
	want := "container api exits with code 1: token [secret TOKEN redacted] rejected by the auth service, exiting"
	if f.Cause != report.CauseAppCrash || f.Summary != want {
		t.Errorf("got %s %q, want app-crash %q", f.Cause, f.Summary, want)
	}
}
