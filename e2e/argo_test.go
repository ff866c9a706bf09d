//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 25, Argo Rollouts: a Rollout (rollouts.argoproj.io) is judged by its pods and its phase
// with the real Argo Rollouts controller, built from tools/argo-rollouts by hack/tools.sh and run
// as a host process for each test namespace (--namespaced), with its CRDs from the same module's
// source applied to the cluster. Each scenario runs idle and then with every core busy.

const argoModule = "github.com/argoproj/argo-rollouts"

var rolloutGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}

var argo struct {
	once      sync.Once
	bin, crds string
	err       error
}

// argoTools finds the controller binary ($ROLLOUT_GATE_ARGO_ROLLOUTS, which make test-e2e sets,
// else hack/tools.sh builds it once into the cache) and the module's CRD folder, and applies the
// CRDs once per test process. A missing controller fails the test: a skip would pass the suite
// without proving anything about Rollouts.
func argoTools(t *testing.T) string {
	t.Helper()
	argo.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		argo.bin = os.Getenv("ROLLOUT_GATE_ARGO_ROLLOUTS")
		if argo.bin == "" {
			out, err := run(ctx, "..", "hack/tools.sh", "argo-rollouts")
			if err != nil {
				argo.err = err
				return
			}
			argo.bin = strings.TrimSpace(out)
		}
		if _, err := os.Stat(argo.bin); err != nil {
			argo.err = err
			return
		}
		// The CRDs of the same version, from the module's source in the module cache.
		out, err := run(ctx, "../tools/argo-rollouts", "go", "mod", "download", "-json", argoModule)
		if err != nil {
			argo.err = err
			return
		}
		var mod struct{ Dir, Version string }
		if err := json.Unmarshal([]byte(out), &mod); err != nil || mod.Dir == "" {
			argo.err = fmt.Errorf("go mod download -json %s: no Dir in %q (%v)", argoModule, out, err)
			return
		}
		argo.crds = filepath.Join(mod.Dir, "manifests", "crds")
		argo.err = applyCRDs(ctx, framework.RESTConfig(t), argo.crds)
	})
	if argo.err != nil {
		t.Fatalf("Argo Rollouts (set ROLLOUT_GATE_ARGO_ROLLOUTS, or let hack/tools.sh argo-rollouts build it): %v", argo.err)
	}
	return argo.bin
}

func run(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// applyCRDs server-side applies every CRD of the folder (idempotent: parallel and repeated runs
// apply the same objects) and waits until each is established. They stay: other tests may be
// using them, and make cluster-down removes them with the cluster.
func applyCRDs(ctx context.Context, cfg *rest.Config, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*-crd.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s (%v)", dir, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := dyn.Resource(crdGVR).Patch(ctx, u.GetName(), types.ApplyPatchType, js,
			metav1.PatchOptions{FieldManager: "rollout-gate-e2e", Force: ptr.To(true)}); err != nil {
			return fmt.Errorf("apply CRD %s: %w", u.GetName(), err)
		}
		for {
			got, err := dyn.Resource(crdGVR).Get(ctx, u.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			established := false
			for _, c := range conds {
				m, _ := c.(map[string]any)
				established = established || (m["type"] == "Established" && m["status"] == "True")
			}
			if established {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s not established: %w", u.GetName(), ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// startArgoController runs the real rollouts-controller for namespace ns alone (--namespaced),
// without leader election and on ports the kernel picks, until the test ends. Its log is shown
// when the test fails.
func startArgoController(t *testing.T, ns string) {
	t.Helper()
	bin := argoTools(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "--kubeconfig", framework.Kubeconfig(t), "--namespaced", "--namespace", ns,
		"--leader-elect=false", "--metricsPort", "0", "--healthzPort", "0", "--loglevel", "warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rollouts-controller: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("rollouts-controller log:\n%s", log.String())
		}
	})
}

// argoRollout is a canary Rollout of the test app run with args, with the given steps (a first
// deploy skips them: there is no stable ReplicaSet yet).
func argoRollout(ns string, replicas int32, steps []any, args ...string) *unstructured.Unstructured {
	tmpl := framework.PodTemplate("api", args...)
	tm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&tmpl)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": "api", "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(replicas),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
			"template": tm,
			"strategy": map[string]any{"canary": map[string]any{"steps": steps}},
		},
	}}
}

// applyRollout creates the Rollout, or replaces its spec.
func applyRollout(t *testing.T, dyn dynamic.Interface, ro *unstructured.Unstructured) {
	t.Helper()
	ctx := t.Context()
	c := dyn.Resource(rolloutGVR).Namespace(ro.GetNamespace())
	cur, err := c.Get(ctx, ro.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := c.Create(ctx, ro, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create rollout: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("get rollout: %v", err)
	}
	cur.Object["spec"] = ro.Object["spec"]
	if _, err := c.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update rollout: %v", err)
	}
}

// waitHealthy waits for the controller to report the Rollout Healthy for its generation.
func waitHealthy(t *testing.T, dyn dynamic.Interface, ns string) {
	t.Helper()
	framework.WaitFor(t, 3*time.Minute, "rollout api Healthy", func(ctx context.Context) (bool, error) {
		u, err := dyn.Resource(rolloutGVR).Namespace(ns).Get(ctx, "api", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		og, _, _ := unstructured.NestedString(u.Object, "status", "observedGeneration")
		return phase == "Healthy" && og == fmt.Sprint(u.GetGeneration()), nil
	})
}

func pauseStep() []any {
	return []any{map[string]any{"setWeight": int64(50)}, map[string]any{"pause": map[string]any{}}}
}

type argoScenario struct {
	name string
	// stage sets the Rollout up and returns when the gate should start (the update applied).
	stage   func(t *testing.T, dyn dynamic.Interface, ns string)
	args    []string
	verdict report.Verdict
	reason  string
	check   func(t *testing.T, run gateRun, w report.Workload, dyn dynamic.Interface, ns string)
}

var argoScenarios = []argoScenario{
	{
		name: "healthy",
		stage: func(t *testing.T, dyn dynamic.Interface, ns string) {
			applyRollout(t, dyn, argoRollout(ns, 2, pauseStep()))
		},
		verdict: report.VerdictHealthy, reason: "Complete",
	},
	{
		// v1 healthy, then v2 crashes: its pods (the canary's) fail the gate at the crash, long
		// before Argo's progress deadline; --rollback refuses with Argo's own commands and changes
		// nothing.
		name: "crash-loop",
		stage: func(t *testing.T, dyn dynamic.Interface, ns string) {
			applyRollout(t, dyn, argoRollout(ns, 2, pauseStep()))
			waitHealthy(t, dyn, ns)
			applyRollout(t, dyn, argoRollout(ns, 2, pauseStep(), "--print", "starting worker pool size=4",
				"--print-stderr", "worker pool exhausted, exiting", "--exit-code", "1"))
		},
		args:    []string{"--rollback"},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff",
		check: func(t *testing.T, run gateRun, w report.Workload, dyn dynamic.Interface, ns string) {
			if len(w.Findings) == 0 || w.Findings[0].Cause != report.CauseAppCrash {
				t.Errorf("findings %+v, want the first to be %s", w.Findings, report.CauseAppCrash)
			} else {
				f := w.Findings[0]
				if !strings.Contains(f.Summary, "worker pool exhausted") {
					t.Errorf("finding %q does not quote the crash's cause", f.Summary)
				}
				// The fixes are Argo's own: kubectl rollout does not know a Rollout.
				fix := strings.Join(f.Fix, "\n")
				if !strings.Contains(fix, "kubectl argo rollouts undo api -n "+ns) || strings.Contains(fix, "kubectl rollout ") {
					t.Errorf("fix commands are not Argo's:\n%s", fix)
				}
			}
			if w.Rollback == nil || w.Rollback.Status != report.RollbackRefused ||
				!strings.Contains(w.Rollback.Message, "kubectl argo rollouts abort api -n "+ns+", then kubectl argo rollouts undo api -n "+ns) {
				t.Errorf("rollback %+v, want refused with the abort and undo commands", w.Rollback)
			}
			u, err := dyn.Resource(rolloutGVR).Namespace(ns).Get(t.Context(), "api", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			args, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			if !strings.Contains(fmt.Sprint(args), "worker pool exhausted") {
				t.Errorf("the Rollout's template changed after a refused rollback: %v", args)
			}
			if abort, _, _ := unstructured.NestedBool(u.Object, "status", "abort"); abort {
				t.Error("the Rollout was aborted after a refused rollback")
			}
		},
	},
	{
		// v1 healthy, then v2 stops at an indefinite pause step with its canary pod ready: the
		// gate waits on the pause (never healthy, never failed, not NoProgress) until --timeout,
		// whose verdict says where it is paused; --rollback leaves it in place.
		name: "paused-canary",
		stage: func(t *testing.T, dyn dynamic.Interface, ns string) {
			applyRollout(t, dyn, argoRollout(ns, 2, pauseStep()))
			waitHealthy(t, dyn, ns)
			applyRollout(t, dyn, argoRollout(ns, 2, pauseStep(), "--print", "v2"))
		},
		args:    []string{"--timeout", "45s", "--progress-timeout", "15s", "--rollback"},
		verdict: report.VerdictTimeout, reason: "Paused",
		check: func(t *testing.T, run gateRun, w report.Workload, dyn dynamic.Interface, ns string) {
			const pause = "waiting on a pause: canary step 2 of 2 (pause with no duration: until promoted; CanaryPauseStep)"
			if promote := "kubectl argo rollouts promote api -n " + ns; !strings.Contains(w.Message, pause) || !strings.Contains(w.Message, promote) {
				t.Errorf("message %q, want it to say %q and %q", w.Message, pause, promote)
			}
			if len(w.Findings) > 0 {
				t.Errorf("findings %+v for a rollout held on a pause, want none: nothing is broken", w.Findings)
			}
			if !strings.Contains(run.Stderr, "rollout/api: ") || !strings.Contains(run.Stderr, pause) {
				t.Errorf("no progress line says %q:\n%s", pause, run.Stderr)
			}
			if w.Rollback == nil || w.Rollback.Status != report.RollbackSkipped || !strings.Contains(w.Rollback.Message, "waiting on a pause") {
				t.Errorf("rollback %+v, want skipped: it was waiting on a pause", w.Rollback)
			}
			u, err := dyn.Resource(rolloutGVR).Namespace(ns).Get(t.Context(), "api", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if phase, _, _ := unstructured.NestedString(u.Object, "status", "phase"); phase != "Paused" {
				t.Errorf("the Rollout is %s after the gate, want it left Paused", phase)
			}
		},
	},
}

func TestArgoRolloutsIdleAndUnderLoad(t *testing.T) {
	framework.GateBinary(t)
	argoTools(t)
	results := &rowLog{}
	t.Cleanup(func() {
		t.Logf("mode | scenario | exit | verdict | reason | cause | apply to pause line | apply to verdict\n%s", results)
	})
	for _, mode := range []string{"idle", "load"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "load" {
				framework.LoadCPU(t, 2)
			}
			for _, sc := range argoScenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					runArgoScenario(t, sc, mode, results)
				})
			}
		})
	}
}

func runArgoScenario(t *testing.T, sc argoScenario, mode string, results *rowLog) {
	ns := framework.Namespace(t)
	dyn, err := dynamic.NewForConfig(framework.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	startArgoController(t, ns)
	sc.stage(t, dyn, ns)
	applied := time.Now()
	args := append([]string{"-n", ns, "--workload", "rollout/api", "-o", "json"}, sc.args...)
	if !slices.Contains(args, "--timeout") {
		args = append(args, "--timeout", "180s")
	}
	g := startGateRun(t, args...)
	// When the progress line first said the rollout waits on a pause, after the update.
	pauseSeen := make(chan time.Duration, 1)
	go func() {
		select {
		case <-g.p.stderr.shows("waiting on a pause"):
			pauseSeen <- time.Since(applied)
		case <-g.p.exited:
		}
	}()
	run := g.wait(t)
	took := time.Since(applied)
	pause := "-"
	select {
	case d := <-pauseSeen:
		pause = fmt.Sprintf("%.1f s", d.Seconds())
	case <-time.After(time.Second):
	}
	w := run.workload(t, "rollout/api")
	cause := report.Cause("")
	if len(w.Findings) > 0 {
		cause = w.Findings[0].Cause
	}
	results.add(fmt.Sprintf("%s | %s | %d | %s | %s | %s | %s | %.1f s", mode, sc.name, run.Exit, w.Verdict, w.Reason, cause, pause, took.Seconds()))
	if w.Verdict != sc.verdict || w.Reason != sc.reason {
		t.Fatalf("verdict %s reason %s (%s), want %s %s", w.Verdict, w.Reason, w.Message, sc.verdict, sc.reason)
	}
	wantExit := 1
	if sc.verdict == report.VerdictHealthy {
		wantExit = 0
	}
	run.mustExit(t, wantExit)
	if w.Kind != "Rollout" || w.APIVersion != "argoproj.io/v1alpha1" {
		t.Errorf("row kind %s apiVersion %s, want Rollout argoproj.io/v1alpha1", w.Kind, w.APIVersion)
	}
	if sc.check != nil {
		sc.check(t, run, w, dyn, ns)
	}
}
