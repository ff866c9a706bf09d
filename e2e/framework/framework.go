// Package framework is the e2e harness of rollout-gate: a client for the cluster named by
// $KUBECONFIG (make cluster-up prints it), throwaway namespaces that dump what happened when a test
// fails, builders for workloads running the test app, and waits on real conditions through the
// watch API. Tests that use it carry the `e2e` build tag; the package itself has none so its unit
// tests run with `go test ./...`.
package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rollout-gate/rollout-gate/e2e/internal/clusterenv"
)

// TestAppImage is the image of e2e/testapp that make cluster-up imports into the cluster. Pods
// run it with imagePullPolicy Never: there is no registry to pull it from.
const TestAppImage = "rollout-gate/testapp:e2e"

// E2ELabel marks every namespace the framework creates, so leftovers are easy to find and delete:
// kubectl delete ns -l rollout-gate.dev/e2e=true
const E2ELabel = "rollout-gate.dev/e2e"

// Kubeconfig returns $KUBECONFIG, failing the test when it is unset or unreadable.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		t.Fatal("KUBECONFIG is not set: run the e2e tests with `make test-e2e`, or export KUBECONFIG=$(make -s cluster-up | tail -n1)")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("KUBECONFIG=%s: %v (is the cluster up? run `make cluster-up`)", path, err)
	}
	return path
}

var clients struct {
	sync.Mutex
	byPath map[string]*rest.Config
}

// RESTConfig returns the client configuration of the cluster in $KUBECONFIG.
func RESTConfig(t testing.TB) *rest.Config {
	t.Helper()
	path := Kubeconfig(t)
	clients.Lock()
	defer clients.Unlock()
	if cfg, ok := clients.byPath[path]; ok {
		return rest.CopyConfig(cfg)
	}
	// Parallel tests watch and list a lot; the default 5 QPS would throttle them.
	cfg, err := clusterenv.Config(path, 50, 100)
	if err != nil {
		t.Fatal(err)
	}
	cfg.UserAgent = "rollout-gate-e2e"
	if clients.byPath == nil {
		clients.byPath = map[string]*rest.Config{}
	}
	clients.byPath[path] = cfg
	return rest.CopyConfig(cfg)
}

// Client returns a clientset for the cluster in $KUBECONFIG.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatalf("create Kubernetes client: %v", err)
	}
	return c
}

// Namespace creates a namespace named after the test, waits until its default ServiceAccount
// exists (pods are rejected before that), and deletes it when the test ends. When the test has
// failed it first logs the namespace's pods (statuses and recent logs) and events.
func Namespace(t testing.TB) string {
	t.Helper()
	c := Client(t)
	name := namespaceName(t.Name())
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("namespace %s after the failure:\n%s", name, Dump(ctx, c, name))
		}
		if os.Getenv("E2E_KEEP_NAMESPACES") != "" {
			t.Logf("E2E_KEEP_NAMESPACES is set: keeping namespace %s", name)
			return
		}
		policy := metav1.DeletePropagationBackground
		if err := c.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete test namespace %s: %v", name, err)
		}
	})
	if err := clusterenv.CreateNamespace(t.Context(), c, name, map[string]string{E2ELabel: "true"}); err != nil {
		t.Fatalf("test namespace: %v (is the cluster up, and kube-controller-manager running?)", err)
	}
	return name
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// namespaceName makes a DNS label from a test name plus a random suffix, so that parallel tests
// and repeated runs never collide.
func namespaceName(testName string) string {
	base := strings.TrimPrefix(testName, "Test")
	base = strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	const maxBase = 63 - len("e2e-") - len("-0123456789")
	if len(base) > maxBase {
		base = strings.TrimRight(base[:maxBase], "-")
	}
	return "e2e-" + base + "-" + clusterenv.RandomID(5)
}

var gate struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// GateBinary builds ./cmd/gate once per test process, with `go build`, into a temporary folder and
// returns the binary's path. Main removes the folder when the tests end.
func GateBinary(t testing.TB) string {
	t.Helper()
	gate.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			gate.err = err
			return
		}
		gate.dir, err = os.MkdirTemp("", "rollout-gate-e2e-")
		if err != nil {
			gate.err = fmt.Errorf("create folder for the gate binary: %w", err)
			return
		}
		if gate.path, err = clusterenv.BuildGate(root, gate.dir); err != nil {
			gate.err = fmt.Errorf("in %s: %w", root, err)
		}
	})
	if gate.err != nil {
		t.Fatalf("build the gate: %v", gate.err)
	}
	return gate.path
}

// moduleRoot finds the folder of the go.mod above the working directory (go test runs each
// package in its own folder).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with `go env GOMOD`: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module: run the tests from the rollout-gate checkout")
	}
	return filepath.Dir(gomod), nil
}

// Main runs the tests and then removes what the framework built (call it from TestMain):
//
//	func TestMain(m *testing.M) { framework.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if gate.dir != "" {
		os.RemoveAll(gate.dir)
	}
	os.Exit(code)
}
