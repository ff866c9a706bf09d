// Command scale measures the gate at platform scale on kwok's simulated nodes (make kwok-up):
// W Deployments × R replicas over N namespaces, one gate run over all of them.
//
//	go run ./e2e/cmd/scale -kubeconfig "$KUBECONFIG" -workloads 1000 -replicas 10 -namespaces 20
//
// It prints figures; it asserts nothing. Two phases, each one gate run (-f over all the
// Deployments, ROLLOUT_GATE_DEBUG_API=1):
//   - healthy: the Deployments are created and the gate started at once (--soak 0); figure: from
//     the last pod turning Ready, as an independent pod watch in this process sees it, to the
//     gate's last verdict and to its exit, split at the moment the last Deployment's status said
//     complete (the controller's lag, then the gate's).
//   - crash: the gate is started on the running Deployments (with a soak, so that it is watching
//     when the change lands), then a share of them get a new revision whose pods kwok turns into
//     crash loops (hack/kwok/pod-crash-loop.yaml); figures: per failing workload, from the first
//     qualifying pod status (CrashLoopBackOff after a restart, what the gate's default tolerance
//     fails on) seen by the independent watch to the verdict's moment in the gate's JSON report
//     (p50/p95/max), and the time the gate then takes to diagnose them all.
//
// For each phase also the gate's peak RSS and CPU seconds (wait4's rusage) and the API requests it
// made by verb and resource (its own count, printed at exit).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/internal/benchstat"
	"github.com/rollout-gate/rollout-gate/e2e/internal/clusterenv"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Labels of the bench's objects. crashLabel is the one the kwok crash-loop Stage selects.
const (
	runLabel   = "rollout-gate.io/scale-run"
	crashLabel = "rollout-gate.io/kwok-crash"
)

type options struct {
	kubeconfig                     string
	workloads, replicas, nsCount   int
	crashShare                     float64
	gate                           string
	timeout, crashSoak, createWait time.Duration
	keep                           bool
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster with the kwok nodes")
	flag.IntVar(&o.workloads, "workloads", 1000, "Deployments")
	flag.IntVar(&o.replicas, "replicas", 10, "replicas of each Deployment")
	flag.IntVar(&o.nsCount, "namespaces", 20, "namespaces the Deployments are spread over")
	flag.Float64Var(&o.crashShare, "crash-share", 0.1, "share of the Deployments whose new revision crash-loops in the crash phase")
	flag.StringVar(&o.gate, "gate", "", "gate binary (default: go build ./cmd/gate)")
	flag.DurationVar(&o.timeout, "timeout", 45*time.Minute, "the gate's --timeout in each phase")
	flag.DurationVar(&o.crashSoak, "crash-soak", 30*time.Second, "the gate's --soak in the crash phase: long enough to be watching when the crash revision lands")
	flag.BoolVar(&o.keep, "keep", false, "keep the namespaces at the end")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.workloads < 1 || o.replicas < 1 || o.nsCount < 1 {
		return fmt.Errorf("-workloads, -replicas and -namespaces must be at least 1")
	}
	c, err := clusterenv.Client(o.kubeconfig, 200, 400)
	if err != nil {
		return err
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
	if err != nil {
		return fmt.Errorf("list kwok nodes: %w", err)
	}
	if len(nodes.Items) == 0 {
		return fmt.Errorf("no kwok nodes (label type=kwok): run make kwok-up first")
	}
	work, err := os.MkdirTemp("", "scale-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.gate == "" {
		if o.gate, err = clusterenv.BuildGate("", work); err != nil {
			return err
		}
	}

	b := &bench{o: o, c: c, id: clusterenv.RandomID(3), work: work}
	fmt.Printf("scale bench: %d Deployments × %d replicas = %d pods over %d namespaces, %d kwok nodes; run %s\n",
		o.workloads, o.replicas, o.workloads*o.replicas, o.nsCount, len(nodes.Items), b.id)
	if !o.keep {
		defer b.cleanup()
	}
	stopWatch, err := b.watchPods(ctx)
	if err != nil {
		return err
	}
	defer stopWatch()

	healthy, err := b.healthyPhase(ctx)
	if err != nil {
		return err
	}
	crash, err := b.crashPhase(ctx)
	if err != nil {
		return err
	}
	printResults(o, healthy, crash)
	return nil
}

type bench struct {
	o    options
	c    kubernetes.Interface
	id   string
	work string
	deps []*appsv1.Deployment
	runs int

	mu sync.Mutex
	// readyAt is when each pod was first seen Ready; crashAt when each crash workload
	// (namespace/name) first had a pod whose status qualifies as a crash loop.
	readyAt map[types.UID]time.Time
	crashAt map[string]time.Time
	// completeAt is when each Deployment's status first said its rollout was complete.
	completeAt map[types.UID]time.Time
}

func (b *bench) namespace(i int) string { return fmt.Sprintf("scale-%s-%02d", b.id, i) }

// watchPods is the independent watch: one informer on the run's pods in every namespace.
func (b *bench) watchPods(ctx context.Context) (stop func(), err error) {
	b.readyAt, b.crashAt, b.completeAt = map[types.UID]time.Time{}, map[string]time.Time{}, map[types.UID]time.Time{}
	f := informers.NewSharedInformerFactoryWithOptions(b.c, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = runLabel + "=" + b.id }))
	inf := f.Core().V1().Pods().Informer()
	see := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		now := time.Now()
		b.mu.Lock()
		defer b.mu.Unlock()
		if workload.PodReady(p) {
			if _, seen := b.readyAt[p.UID]; !seen {
				b.readyAt[p.UID] = now
			}
		}
		if p.Labels[crashLabel] != "" && crashQualifies(p) {
			key := p.Namespace + "/" + p.Labels["app"]
			if _, seen := b.crashAt[key]; !seen {
				b.crashAt[key] = now
			}
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: see, UpdateFunc: func(_, o any) { see(o) }})
	// The Deployments too: when the controller first reports each one complete, the earliest
	// moment any tool reading the status could call it healthy.
	seeDeployment := func(obj any) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || !deploymentComplete(d) {
			return
		}
		now := time.Now()
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, seen := b.completeAt[d.UID]; !seen {
			b.completeAt[d.UID] = now
		}
	}
	dinf := f.Apps().V1().Deployments().Informer()
	_, _ = dinf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: seeDeployment, UpdateFunc: func(_, o any) { seeDeployment(o) }})
	wctx, cancel := context.WithCancel(ctx)
	f.Start(wctx.Done())
	if !cache.WaitForCacheSync(wctx.Done(), inf.HasSynced, dinf.HasSynced) {
		cancel()
		return nil, fmt.Errorf("start the independent pod watch")
	}
	return cancel, nil
}

// crashQualifies: a container crashed twice, the first state the gate's default policy (one
// crash tolerated) fails: waiting in CrashLoopBackOff after a restart.
func crashQualifies(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" &&
			cs.LastTerminationState.Terminated != nil && cs.RestartCount >= 1 {
			return true
		}
	}
	return false
}

// deploymentComplete is kubectl rollout status's "successfully rolled out", from the status alone.
func deploymentComplete(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want &&
		d.Status.Replicas == want && d.Status.AvailableReplicas == want
}

func (b *bench) deployment(i int) *appsv1.Deployment {
	name := fmt.Sprintf("app-%04d", i)
	labels := map[string]string{"app": name, runLabel: b.id}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.namespace(i % b.o.nsCount), Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(b.o.replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/scale-app:v1"}},
					// kwok's nodes: select them and tolerate their taint.
					NodeSelector: map[string]string{"type": "kwok"},
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists,
						Effect: corev1.TaintEffectNoSchedule}},
					AutomountServiceAccountToken: ptr.To(false),
				},
			},
		},
	}
}

// writeManifest writes every Deployment to one file for the gate's -f.
func (b *bench) writeManifest() (string, error) {
	var buf bytes.Buffer
	for _, d := range b.deps {
		y, err := yaml.Marshal(d)
		if err != nil {
			return "", err
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	path := filepath.Join(b.work, "deployments.yaml")
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// parallel runs fn over 0..n-1 with a few workers and returns the first error.
func parallel(n, workers int, fn func(i int) error) error {
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

type phase struct {
	report    gateReport
	exitedAt  time.Time
	rssKiB    int64
	cpu       time.Duration
	requests  string
	exitCode  int
	lastReady time.Time // healthy phase
	// lastComplete is when the last Deployment's status said complete (healthy phase).
	lastComplete time.Time
	crashLat     []time.Duration
	crashCount   int
	unmatched    int // crash workloads with a verdict but no qualifying status seen
	diagnose     time.Duration
}

func (b *bench) healthyPhase(ctx context.Context) (*phase, error) {
	for i := range b.o.nsCount {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.namespace(i), Labels: map[string]string{runLabel: b.id}}}
		if _, err := b.c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	for i := range b.o.workloads {
		b.deps = append(b.deps, b.deployment(i))
	}
	manifest, err := b.writeManifest()
	if err != nil {
		return nil, err
	}
	fmt.Printf("healthy phase: creating %d Deployments\n", len(b.deps))
	created := time.Now()
	if err := parallel(len(b.deps), 16, func(i int) error {
		d := b.deps[i]
		_, err := b.c.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	fmt.Printf("  created in %.1f s; gate started\n", time.Since(created).Seconds())
	p, err := b.runGate(ctx, manifest, "--soak", "0")
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	for _, t := range b.readyAt {
		if t.After(p.lastReady) {
			p.lastReady = t
		}
	}
	for _, t := range b.completeAt {
		if t.After(p.lastComplete) {
			p.lastComplete = t
		}
	}
	ready := len(b.readyAt)
	b.mu.Unlock()
	fmt.Printf("  %d pods seen Ready; gate exit %d after %.1f s\n", ready, p.exitCode, p.exitedAt.Sub(created).Seconds())
	return p, nil
}

func (b *bench) crashPhase(ctx context.Context) (*phase, error) {
	var crash []int
	step := max(1, int(math.Round(1/b.o.crashShare)))
	for i := 0; i < b.o.workloads; i += step {
		crash = append(crash, i)
	}
	manifest := filepath.Join(b.work, "deployments.yaml")
	fmt.Printf("crash phase: gate started (--soak %s --wait-all); %d Deployments get a crash-looping revision once it watches\n", b.o.crashSoak, len(crash))
	type started struct {
		p   *phase
		err error
	}
	done := make(chan started, 1)
	watching := make(chan struct{})
	go func() {
		p, err := b.runGateNotify(ctx, manifest, watching, "--soak", b.o.crashSoak.String(), "--wait-all")
		done <- started{p, err}
	}()
	select {
	case <-watching:
	case s := <-done:
		return nil, fmt.Errorf("the gate ended before it watched every workload: %v", s.err)
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"labels":{%q:"true"}}}}}`, crashLabel)
	if err := parallel(len(crash), 16, func(k int) error {
		d := b.deps[crash[k]]
		_, err := b.c.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("patch deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s := <-done
	if s.err != nil {
		return nil, s.err
	}
	p := s.p
	p.crashCount = len(crash)
	b.mu.Lock()
	for _, w := range p.report.Workloads {
		at, ok := w.verdictAt()
		if !ok || w.Verdict != "failed" {
			continue
		}
		seen, ok := b.crashAt[w.Namespace+"/"+w.Name]
		if !ok {
			p.unmatched++
			continue
		}
		p.crashLat = append(p.crashLat, at.Sub(seen))
	}
	b.mu.Unlock()
	// The gate diagnoses once the watch has ended, after every verdict (--wait-all waits for the
	// healthy ones' soak too): the diagnosis is what follows the last verdict of any workload.
	if last := p.report.lastVerdict(); !last.IsZero() {
		p.diagnose = p.report.FinishedAt.Sub(last)
	}
	fmt.Printf("  gate exit %d; %d failed verdicts\n", p.exitCode, len(p.crashLat)+p.unmatched)
	return p, nil
}

func (b *bench) runGate(ctx context.Context, manifest string, args ...string) (*phase, error) {
	return b.runGateNotify(ctx, manifest, nil, args...)
}

// runGateNotify runs the gate over the manifest; watching, when set, is closed once the gate has
// judged every workload once (one progress line each).
func (b *bench) runGateNotify(ctx context.Context, manifest string, watching chan<- struct{}, args ...string) (*phase, error) {
	reportPath := filepath.Join(b.work, "report.json")
	// The gate's stderr (progress, the request table) stays after the run, for a look at what it did.
	b.runs++
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("scale-%s-gate-%d.log", b.id, b.runs))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args = append([]string{"--kubeconfig", b.o.kubeconfig, "-f", manifest, "--timeout", b.o.timeout.String(),
		"--report-json", reportPath, "-o", "text"}, args...)
	cmd := exec.CommandContext(ctx, b.o.gate, args...)
	cmd.Env = append(os.Environ(), "ROLLOUT_GATE_DEBUG_API=1", "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	fmt.Printf("  gate stderr: %s\n", logPath)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the gate: %w", err)
	}
	var table strings.Builder
	inTable := false
	seen := map[string]bool{}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logFile, line)
		if strings.HasPrefix(strings.TrimSpace(line), "API requests") {
			inTable = true
		}
		if inTable {
			table.WriteString(line + "\n")
			if strings.Contains(line, "total") {
				inTable = false
			}
			continue
		}
		if watching != nil {
			if ref, _, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(ref, "deployment/") {
				seen[ref] = true
			}
			if len(seen) >= len(b.deps) {
				close(watching)
				watching = nil
			}
		}
	}
	err = cmd.Wait()
	p := &phase{exitedAt: time.Now(), requests: table.String(), exitCode: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.rssKiB = ru.Maxrss
	}
	p.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	data, rerr := os.ReadFile(reportPath)
	if rerr != nil {
		return nil, fmt.Errorf("the gate wrote no report (%v): %w", err, rerr)
	}
	if err := json.Unmarshal(data, &p.report); err != nil {
		return nil, fmt.Errorf("read the gate's report: %w", err)
	}
	return p, nil
}

// gateReport is the part of the gate's JSON report the bench reads.
type gateReport struct {
	Verdict    string         `json:"verdict"`
	StartedAt  time.Time      `json:"startedAt"`
	FinishedAt time.Time      `json:"finishedAt"`
	Workloads  []gateWorkload `json:"workloads"`
}

type gateWorkload struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Verdict   string `json:"verdict"`
	Timeline  []struct {
		At   time.Time `json:"at"`
		Kind string    `json:"kind"`
	} `json:"timeline"`
}

// verdictAt is the verdict's moment on the workload's timeline.
func (w gateWorkload) verdictAt() (time.Time, bool) {
	for _, m := range w.Timeline {
		if m.Kind == "verdict" {
			return m.At, true
		}
	}
	return time.Time{}, false
}

func (r gateReport) lastVerdict() time.Time {
	var last time.Time
	for _, w := range r.Workloads {
		if at, ok := w.verdictAt(); ok && at.After(last) {
			last = at
		}
	}
	return last
}

func printResults(o options, h, c *phase) {
	fmt.Println()
	fmt.Printf("## %d workloads / %d pods / %d namespaces\n\n", o.workloads, o.workloads*o.replicas, o.nsCount)
	fmt.Printf("%-46s %14s %14s\n", "", "healthy", "crash")
	row := func(name, a, b string) { fmt.Printf("%-46s %14s %14s\n", name, a, b) }
	row("gate verdict", h.report.Verdict, c.report.Verdict)
	row("last pod Ready → last verdict", secs(h.report.lastVerdict().Sub(h.lastReady)), "")
	row("last pod Ready → gate exit", secs(h.exitedAt.Sub(h.lastReady)), "")
	row("last pod Ready → last Deployment status complete", secs(h.lastComplete.Sub(h.lastReady)), "")
	row("last Deployment status complete → last verdict", secs(h.report.lastVerdict().Sub(h.lastComplete)), "")
	lat := c.crashLat
	row(fmt.Sprintf("crash verdict latency p50/p95/max (%d)", len(lat)), "",
		fmt.Sprintf("%s/%s/%s", msec(benchstat.Percentile(lat, 50)), msec(benchstat.Percentile(lat, 95)), msec(benchstat.Percentile(lat, 100))))
	if c.unmatched > 0 {
		row("failed verdicts without a qualifying status seen", "", fmt.Sprint(c.unmatched))
	}
	row(fmt.Sprintf("diagnose all %d failing workloads", c.crashCount), "", secs(c.diagnose))
	row("peak RSS", mib(h.rssKiB), mib(c.rssKiB))
	row("CPU (user+system)", secs(h.cpu), secs(c.cpu))
	fmt.Println("\nAPI requests of the healthy run:")
	fmt.Print(h.requests)
	fmt.Println("\nAPI requests of the crash run:")
	fmt.Print(c.requests)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func msec(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}
func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// cleanup deletes the run's namespaces; kwok's pod-delete stage removes their pods.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range b.o.nsCount {
		_ = b.c.CoreV1().Namespaces().Delete(ctx, b.namespace(i), metav1.DeleteOptions{})
	}
	fmt.Printf("\nnamespaces scale-%s-* deleted\n", b.id)
}
