// Package clusterenv is what the e2e framework and the bench commands (bench, peers, scale)
// share to run against a cluster: its client configuration, the gate binary, and namespaces of
// their own with names that runs side by side do not share.
package clusterenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config is the client configuration of the cluster kubeconfig names. qps and burst raise
// client-go's default limits (5 and 10) where many requests are made; 0 keeps the default.
func Config(kubeconfig string, qps float32, burst int) (*rest.Config, error) {
	if kubeconfig == "" {
		return nil, errors.New("no kubeconfig: pass -kubeconfig or set KUBECONFIG (make cluster-up starts the local cluster and prints its kubeconfig)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	return cfg, nil
}

// Client is a client of the cluster kubeconfig names, with the limits of Config.
func Client(kubeconfig string, qps float32, burst int) (*kubernetes.Clientset, error) {
	cfg, err := Config(kubeconfig, qps, burst)
	if err != nil {
		return nil, err
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return c, nil
}

// BuildGate builds ./cmd/gate of the module in folder root ("" for the current folder, as when
// a bench runs from the module root) into dir and returns the binary's path.
func BuildGate(root, dir string) (string, error) {
	bin := filepath.Join(dir, "gate")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gate: %w\n%s", err, out)
	}
	return bin, nil
}

// RandomID is n random bytes in hex, for names that runs side by side do not share.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateNamespace creates namespace name with labels and waits, up to a minute, for its default
// ServiceAccount: the API server rejects pods in a namespace before it exists.
func CreateNamespace(ctx context.Context, c kubernetes.Interface, name string, labels map[string]string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("wait for ServiceAccount default in %s: %w", name, err)
	}
	return nil
}
