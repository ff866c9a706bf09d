// Command peers runs rollout-gate side by side with its peers on the same rollouts of the local
// real cluster, and says which of them got each rollout right and how fast:
//
//	make bench-peers                          # all scenarios, writes docs/benchmarks.md
//	go run ./e2e/cmd/peers -kubedog BIN -helm BIN -scenarios oom,slow-start -out ''
//
// The four tools are rollout-gate, `kubedog rollout track deployment`, `helm upgrade --install
// --wait` and `kubectl rollout status`, each with its defaults and the same timeout. For each
// scenario every tool gets its own namespace holding the same Deployment, and all four start at
// the same moment. The bench prints a Markdown table (exit code, verdict, time from apply to exit,
// and whether that is right, a false pass or a false alarm) and writes it, with the date, the
// machine and the versions, between the markers of its section in -out.
//
// It prints figures; it asserts nothing, and `make test` does not run it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/internal/clusterenv"
)

// benchLabel marks the namespaces the bench creates: kubectl delete ns -l rollout-gate.dev/bench=peers
const benchLabel = "rollout-gate.dev/bench"

// grace is how long past the timeout a tool may take to exit before the bench kills it.
const grace = time.Minute

type options struct {
	kubeconfig string
	timeout    time.Duration
	scenarios  string
	parallel   int
	gate       string
	kubedog    string
	helm       string
	kubectl    string
	out        string
	logs       string
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the local cluster (make cluster-up prints it)")
	flag.DurationVar(&o.timeout, "timeout", envDuration("PEERS_TIMEOUT", 180*time.Second), "the one timeout every tool gets (env PEERS_TIMEOUT)")
	flag.StringVar(&o.scenarios, "scenarios", os.Getenv("PEERS_SCENARIOS"), "comma-separated scenarios to run (env PEERS_SCENARIOS; default all): "+scenarioNames())
	flag.IntVar(&o.parallel, "parallel", 4, "scenarios at once (each runs its four tools at once); keep it low on 2 cores")
	flag.StringVar(&o.gate, "gate", "", "gate binary (default: go build ./cmd/gate)")
	flag.StringVar(&o.kubedog, "kubedog", "", "kubedog binary (hack/tools.sh kubedog prints it)")
	flag.StringVar(&o.helm, "helm", "", "helm binary (hack/tools.sh helm prints it)")
	flag.StringVar(&o.kubectl, "kubectl", "kubectl", "kubectl binary")
	flag.StringVar(&o.out, "out", "", "Markdown file whose peers section gets the table (e.g. docs/benchmarks.md); empty: print only")
	flag.StringVar(&o.logs, "logs", "", "folder for each tool's output, one file per scenario and tool (default: a new temporary folder)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-peers: %v\n", err)
		os.Exit(1)
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func scenarioNames() string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return strings.Join(names, ",")
}

func run(ctx context.Context, o options) error {
	scs, err := selectScenarios(o.scenarios)
	if err != nil {
		return err
	}
	switch {
	case o.kubedog == "" || o.helm == "":
		return errors.New("-kubedog and -helm are required: build them with `hack/tools.sh kubedog helm`, which prints their paths")
	case o.timeout < 10*time.Second:
		return fmt.Errorf("-timeout %s: give the tools at least 10s", o.timeout)
	case o.parallel < 1:
		return fmt.Errorf("-parallel %d: run at least one scenario at a time", o.parallel)
	}
	kubectl, err := exec.LookPath(o.kubectl)
	if err != nil {
		return fmt.Errorf("kubectl: %w (install it, or pass -kubectl)", err)
	}
	c, err := clusterenv.Client(o.kubeconfig, 50, 100)
	if err != nil {
		return err
	}
	server, err := c.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("reach the cluster in %s (is it up? make cluster-up): %w", o.kubeconfig, err)
	}

	work, err := os.MkdirTemp("", "bench-peers-")
	if err != nil {
		return fmt.Errorf("create the work folder: %w", err)
	}
	defer os.RemoveAll(work)
	if o.gate == "" {
		fmt.Fprintln(os.Stderr, "bench-peers: go build ./cmd/gate")
		if o.gate, err = clusterenv.BuildGate("", work); err != nil {
			return err
		}
	}
	if o.logs == "" {
		if o.logs, err = os.MkdirTemp("", "bench-peers-logs-"); err != nil {
			return fmt.Errorf("create the logs folder: %w", err)
		}
	} else if err := os.MkdirAll(o.logs, 0o755); err != nil {
		return fmt.Errorf("create the logs folder: %w", err)
	}

	tools := []tool{
		gateTool(o.gate, gateVersion(o.gate)),
		kubedogTool(o.kubedog, moduleVersion(o.kubedog, "github.com/werf/kubedog")),
		helmTool(o.helm, moduleVersion(o.helm, "helm.sh/helm/v4")),
		kubectlTool(kubectl, kubectlVersion(kubectl)),
	}
	b := &bench{c: c, kubeconfig: o.kubeconfig, timeout: o.timeout, tools: tools, work: work, logs: o.logs,
		env: append(os.Environ(), "KUBEDOG_NO_COLOR=1", "NO_COLOR=1",
			"HELM_CONFIG_HOME="+filepath.Join(work, "helm", "config"),
			"HELM_CACHE_HOME="+filepath.Join(work, "helm", "cache"),
			"HELM_DATA_HOME="+filepath.Join(work, "helm", "data"))}
	fmt.Fprintf(os.Stderr, "bench-peers: %d scenarios, %d at a time, timeout %s; tools: %s; logs in %s\n",
		len(scs), o.parallel, o.timeout, joinTools(tools), o.logs)

	started, load := time.Now().UTC(), loadAverage()
	rows := make([]row, len(scs))
	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				rows[i] = row{sc: sc, err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			rows[i] = b.scenario(ctx, sc)
			fmt.Fprintf(os.Stderr, "bench-peers: %s done: %s\n", sc.name, rows[i].short())
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}

	m := machine{date: started, cores: runtime.NumCPU(), cpu: cpuModel(), memory: memTotal(), load: load,
		server: server.GitVersion, timeout: o.timeout, parallel: o.parallel}
	table := markdown(m, tools, rows)
	fmt.Println(table)
	if o.out != "" {
		if err := writeSection(o.out, table); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench-peers: wrote the table to %s\n", o.out)
	}
	for _, r := range rows {
		if r.err != nil {
			return fmt.Errorf("scenario %s: %w", r.sc.name, r.err)
		}
	}
	return nil
}

func joinTools(tools []tool) string {
	var s []string
	for _, t := range tools {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}

// bench is what every scenario run shares.
type bench struct {
	c          kubernetes.Interface
	kubeconfig string
	timeout    time.Duration
	tools      []tool
	work, logs string
	env        []string
}

// row is one scenario's outcomes, one per tool in the bench's order.
type row struct {
	sc       scenario
	outcomes []outcome
	err      error // the bench could not run the scenario
}

func (r row) short() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	var s []string
	for _, o := range r.outcomes {
		s = append(s, fmt.Sprintf("%d/%.0fs", o.exit, o.elapsed.Seconds()))
	}
	return strings.Join(s, " ")
}

// scenario runs the four tools at once on sc, each in a namespace of its own, and deletes the
// namespaces afterwards.
func (b *bench) scenario(ctx context.Context, sc scenario) row {
	nss := make([]string, len(b.tools))
	defer func() {
		for _, ns := range nss {
			if ns != "" {
				_ = b.c.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
			}
		}
	}()
	for i, t := range b.tools {
		ns, err := namespace(ctx, b.c, sc.name, t.name)
		if err != nil {
			return row{sc: sc, err: err}
		}
		nss[i] = ns
	}
	chart, err := writeChart(filepath.Join(b.work, "charts", sc.name), sc)
	if err != nil {
		return row{sc: sc, err: err}
	}

	r := row{sc: sc, outcomes: make([]outcome, len(b.tools))}
	errs := make([]error, len(b.tools))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, t := range b.tools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r.outcomes[i], errs[i] = b.runTool(ctx, t, sc, nss[i], chart)
		}()
	}
	close(start)
	wg.Wait()
	r.err = errors.Join(errs...)
	return r
}

// runTool applies the scenario's Deployment (unless the tool applies it) and runs the tool on it,
// timing from the apply to the tool's exit. Its output goes to the logs folder.
func (b *bench) runTool(ctx context.Context, t tool, sc scenario, ns, chart string) (outcome, error) {
	if !t.applies {
		if _, err := b.c.AppsV1().Deployments(ns).Create(ctx, sc.build(ns), metav1.CreateOptions{}); err != nil {
			return outcome{}, fmt.Errorf("%s: create deployment in %s: %w", t.name, ns, err)
		}
	}
	applied := time.Now()
	limit, cancel := context.WithTimeout(ctx, b.timeout+grace)
	defer cancel()
	cmd := exec.CommandContext(limit, t.bin, t.args(b.kubeconfig, ns, chart, b.timeout)...)
	cmd.Env = b.env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	elapsed := time.Since(applied)
	o := outcome{exit: cmd.ProcessState.ExitCode(), elapsed: elapsed}
	var exitErr *exec.ExitError
	switch {
	case limit.Err() != nil && ctx.Err() == nil:
		o.exit = -1 // killed by the bench
	case err != nil && !errors.As(err, &exitErr):
		return outcome{}, fmt.Errorf("%s: run %s: %w", t.name, t.bin, err)
	}
	o.verdict = t.verdict(o.exit, stdout.Bytes(), stderr.Bytes(), elapsed >= b.timeout-time.Second)
	log := fmt.Sprintf("$ %s %s\n# exit %d after %.1f s (verdict %s)\n--- stdout\n%s\n--- stderr\n%s",
		t.bin, strings.Join(cmd.Args[1:], " "), o.exit, elapsed.Seconds(), o.verdict, stdout.Bytes(), stderr.Bytes())
	name := filepath.Join(b.logs, sc.name+"-"+strings.ToLower(t.name)+".log")
	if err := os.WriteFile(name, []byte(log), 0o644); err != nil {
		return o, fmt.Errorf("%s: write its log: %w", t.name, err)
	}
	return o, ctx.Err()
}

// namespace creates a namespace for one tool on one scenario and waits for its default
// ServiceAccount (pods are rejected before it exists).
func namespace(ctx context.Context, c kubernetes.Interface, scenario, tool string) (string, error) {
	name := fmt.Sprintf("peers-%s-%s-%s", scenario, strings.ToLower(strings.ReplaceAll(tool, "-", "")), clusterenv.RandomID(3))
	return name, clusterenv.CreateNamespace(ctx, c, name, map[string]string{benchLabel: "peers"})
}

// writeChart writes the smallest chart that installs the scenario's Deployment: Chart.yaml and
// one template, which is the manifest itself (it holds no template actions).
func writeChart(dir string, sc scenario) (string, error) {
	d := sc.build("")
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	manifest, err := manifestYAML(d)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		return "", fmt.Errorf("create chart folder: %w", err)
	}
	chart := fmt.Sprintf("apiVersion: v2\nname: peers-%s\nversion: 0.1.0\ndescription: bench-peers scenario %s\n", sc.name, sc.name)
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(chart), 0o644); err != nil {
		return "", fmt.Errorf("write Chart.yaml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "deployment.yaml"), manifest, 0o644); err != nil {
		return "", fmt.Errorf("write the chart's template: %w", err)
	}
	return dir, nil
}

// manifestYAML is the Deployment as YAML for a chart template. Helm would read "{{" as a template
// action, so a manifest holding one is refused rather than installed changed.
func manifestYAML(d *appsv1.Deployment) ([]byte, error) {
	out, err := yaml.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("marshal the Deployment: %w", err)
	}
	if bytes.Contains(out, []byte("{{")) {
		return nil, errors.New("the Deployment's YAML holds {{, which Helm would read as a template action")
	}
	return out, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return ""
	}
	var kb int64
	for _, l := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return ""
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}
