// Command bench measures how fast the gate reaches its verdict on a crash-looping Deployment on
// the local real cluster, and compares it with `kubectl rollout status` on the same manifest.
//
//	go run ./e2e/cmd/bench -kubeconfig "$(make -s cluster-up | tail -1)"
//
// It prints figures; it asserts nothing. Two numbers per run:
//   - gate latency: from the moment an independent pod watch in this process first sees the pod
//     status that qualifies as a crash loop under the gate's default policy (a second crash) to
//     the moment the gate prints its verdict line;
//   - apply → verdict: from the create call returning to the verdict line.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/internal/benchstat"
	"github.com/rollout-gate/rollout-gate/e2e/internal/clusterenv"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the local cluster")
	runs := flag.Int("runs", 10, "gate runs")
	gate := flag.String("gate", "", "gate binary (default: build ./cmd/gate)")
	kubectlLimit := flag.Duration("kubectl-limit", 11*time.Minute, "bound on the kubectl rollout status run (its own deadline is progressDeadlineSeconds, 600 s by default)")
	skipKubectl := flag.Bool("skip-kubectl", false, "do not run kubectl rollout status")
	flag.Parse()
	if err := run(*kubeconfig, *runs, *gate, *kubectlLimit, *skipKubectl); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig string, runs int, gate string, kubectlLimit time.Duration, skipKubectl bool) error {
	c, err := clusterenv.Client(kubeconfig, 0, 0)
	if err != nil {
		return err
	}
	if gate == "" {
		dir, err := os.MkdirTemp("", "bench-gate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if gate, err = clusterenv.BuildGate("", dir); err != nil {
			return err
		}
	}
	ctx := context.Background()

	// kubectl runs once on the same manifest (with its readiness probe, so it waits for the
	// progress deadline), and once without the probe, where it reports a false success.
	var kubectlResult, kubectlNoProbe string
	var wg sync.WaitGroup
	if !skipKubectl {
		wg.Add(2)
		go func() {
			defer wg.Done()
			kubectlResult = kubectlRun(ctx, c, kubeconfig, kubectlLimit, true)
		}()
		go func() {
			defer wg.Done()
			kubectlNoProbe = kubectlRun(ctx, c, kubeconfig, kubectlLimit, false)
		}()
	}

	var latencies, applyToVerdict []time.Duration
	for i := 0; i < runs; i++ {
		lat, a2v, err := gateRun(ctx, c, kubeconfig, gate, i)
		if err != nil {
			fmt.Printf("run %2d: %v\n", i+1, err)
			continue
		}
		fmt.Printf("run %2d: gate latency %6.0f ms   apply → verdict %6.2f s\n", i+1, ms(lat), a2v.Seconds())
		latencies = append(latencies, lat)
		applyToVerdict = append(applyToVerdict, a2v)
	}
	wg.Wait()

	fmt.Println()
	fmt.Printf("gate latency (qualifying status visible → verdict), %d runs: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n",
		len(latencies), ms(benchstat.Percentile(latencies, 50)), ms(benchstat.Percentile(latencies, 95)), ms(benchstat.Percentile(latencies, 100)))
	fmt.Printf("apply → verdict, gate, %d runs: p50 %.2f s, p95 %.2f s\n",
		len(applyToVerdict), benchstat.Percentile(applyToVerdict, 50).Seconds(), benchstat.Percentile(applyToVerdict, 95).Seconds())
	if kubectlNoProbe != "" {
		fmt.Println("same manifest without its readiness probe: " + kubectlNoProbe)
	}
	if kubectlResult != "" {
		fmt.Println(kubectlResult)
		if d, ok := kubectlDuration(kubectlResult); ok && len(applyToVerdict) > 0 {
			fmt.Printf("ratio kubectl rollout status / gate (p50): %.0fx\n", d.Seconds()/benchstat.Percentile(applyToVerdict, 50).Seconds())
		}
	}
	return nil
}

// crashLoopDeployment crashes at each start, as a bad config does. With a readiness probe the
// pod is never ready; without one it is "available" for a moment after each start.
func crashLoopDeployment(ns string, readiness bool) *appsv1.Deployment {
	labels := map[string]string{"app": "api"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers: []corev1.Container{{Name: "api", Image: "rollout-gate/testapp:e2e", ImagePullPolicy: corev1.PullNever,
						Args: []string{"--print", "FATAL: invalid value for DATABASE_PORT", "--exit-code", "1"}}},
				},
			},
		},
	}
	if readiness {
		d.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 1}
	}
	return d
}

// namespace creates a namespace for one run and returns it with the func that deletes it.
func namespace(ctx context.Context, c kubernetes.Interface, prefix string) (string, func(), error) {
	name := prefix + "-" + clusterenv.RandomID(4)
	if err := clusterenv.CreateNamespace(ctx, c, name, nil); err != nil {
		return "", nil, err
	}
	return name, func() { _ = c.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) }, nil
}

// gateRun applies the crash loop in a fresh namespace and times the gate against an independent watch.
func gateRun(ctx context.Context, c kubernetes.Interface, kubeconfig, gate string, i int) (latency, applyToVerdict time.Duration, err error) {
	ns, cleanup, err := namespace(ctx, c, fmt.Sprintf("bench-%d", i))
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// An informer, not a bare watch: it relists and resumes after a dropped or expired watch, so
	// the bench never loses the moment the second crash became visible.
	qualified := make(chan time.Time, 1)
	see := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok && secondCrashVisible(p) {
			select {
			case qualified <- time.Now():
			default:
			}
		}
	}
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	pods := f.Core().V1().Pods().Informer()
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: see, UpdateFunc: func(_, obj any) { see(obj) }}); err != nil {
		return 0, 0, fmt.Errorf("watch pods: %w", err)
	}
	// The informer lists and watches again after an error; say so, so that a run whose watch
	// dropped is not silently taken for one that saw everything.
	var watchErrs atomic.Int32
	if err := pods.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
		if ctx.Err() != nil {
			return // the run is over
		}
		watchErrs.Add(1)
		fmt.Fprintf(os.Stderr, "run %2d: the pod watch in %s failed (%v); listing and watching again\n", i+1, ns, err)
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}); err != nil {
		return 0, 0, fmt.Errorf("watch pods: %w", err)
	}
	f.Start(ctx.Done())
	defer func() { cancel(); f.Shutdown() }() // Shutdown waits for the informer, which stops with ctx
	if !cache.WaitForCacheSync(ctx.Done(), pods.HasSynced) {
		return 0, 0, fmt.Errorf("watch pods in %s: the cache did not sync", ns)
	}

	cmd := exec.CommandContext(ctx, gate, "--kubeconfig", kubeconfig, "-n", ns, "--workload", "deployment/api", "--timeout", "2m", "-o", "json")
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, crashLoopDeployment(ns, true), metav1.CreateOptions{}); err != nil {
		return 0, 0, fmt.Errorf("create deployment: %w", err)
	}
	applied := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start gate: %w", err)
	}
	var verdictAt time.Time
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if verdictAt.IsZero() && strings.HasSuffix(sc.Text(), ": failed; diagnosing") {
			verdictAt = time.Now()
		}
	}
	_ = cmd.Wait()
	if verdictAt.IsZero() {
		return 0, 0, fmt.Errorf("the gate printed no failed verdict (exit %d)", cmd.ProcessState.ExitCode())
	}
	select {
	case q := <-qualified:
		return verdictAt.Sub(q), verdictAt.Sub(applied), nil
	case <-time.After(5 * time.Second):
		return 0, 0, fmt.Errorf("the independent watch (%d watch errors, each followed by a new list and watch) never saw a second crash, yet the gate failed at %s",
			watchErrs.Load(), verdictAt.Sub(applied))
	}
}

// secondCrashVisible is the bench's own reading of "crashed twice": written apart from the
// gate's judge on purpose, from the kubelet's status fields.
func secondCrashVisible(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		dead := cs.State.Terminated != nil || (cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff")
		// Two quick crashes can fall between two status updates: restartCount 2 while running.
		if cs.RestartCount >= 2 || cs.RestartCount >= 1 && dead {
			return true
		}
	}
	return false
}

func kubectlRun(ctx context.Context, c kubernetes.Interface, kubeconfig string, limit time.Duration, readiness bool) string {
	if _, err := exec.LookPath("kubectl"); err != nil {
		return "kubectl rollout status: skipped, kubectl is not on PATH (apt-get install kubectl)"
	}
	ns, cleanup, err := namespace(ctx, c, "bench-kubectl")
	if err != nil {
		return "kubectl rollout status: " + err.Error()
	}
	defer cleanup()
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, crashLoopDeployment(ns, readiness), metav1.CreateOptions{}); err != nil {
		return "kubectl rollout status: create deployment: " + err.Error()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "-n", ns, "rollout", "status", "deployment/api").CombinedOutput()
	d := time.Since(start)
	last := strings.TrimSpace(string(out))
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	if ctx.Err() != nil {
		return fmt.Sprintf("kubectl rollout status: no verdict within the bench limit of %s (>= %.1f s)", limit, d.Seconds())
	}
	return fmt.Sprintf("kubectl rollout status: %.1f s (exit error: %v; %s)", d.Seconds(), err, last)
}

func kubectlDuration(s string) (time.Duration, bool) {
	var secs float64
	if i := strings.Index(s, ">= "); i >= 0 {
		if _, err := fmt.Sscanf(s[i+3:], "%f", &secs); err == nil {
			return time.Duration(secs * float64(time.Second)), true
		}
	}
	if _, err := fmt.Sscanf(s, "kubectl rollout status: %f s", &secs); err == nil {
		return time.Duration(secs * float64(time.Second)), true
	}
	return 0, false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
