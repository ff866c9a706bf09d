package framework

import (
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A recorded fixture never holds a Secret value: not in the Secret, not where a log printed it.
func TestScrubSecrets(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-VALUE-0123abcd"
	secrets := []corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "app-token"}, Data: map[string][]byte{"token": []byte(value + "\n"), "x": []byte("ab")}}}
	scrub := scrubSecrets(secrets)
	if got := string(secrets[0].Data["token"]); got != "recorded-app-token-token" {
		t.Errorf("Secret value recorded as %q", got)
	}
	if got := string(secrets[0].Data["x"]); got != "recorded-app-token-x" {
		t.Errorf("short Secret value recorded as %q", got)
	}
	log := "2026-12-03T04:00:00Z API_TOKEN=" + value + " b64 " + base64.StdEncoding.EncodeToString([]byte(value+"\n"))
	got := string(scrub([]byte(log)))
	if strings.Contains(got, value) || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte(value+"\n"))) {
		t.Errorf("the value survives in %q", got)
	}
	if !strings.Contains(got, "API_TOKEN=recorded-app-token-token") {
		t.Errorf("the value is not replaced by its placeholder: %q", got)
	}
}

func TestFixtureName(t *testing.T) {
	t.Parallel()
	if got := FixtureName("liveness-probe/wrong-path"); got != "liveness-probe--wrong-path" {
		t.Errorf("got %q", got)
	}
}

func TestNodeMatters(t *testing.T) {
	t.Parallel()
	node := func(name string, kwok bool) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if kwok {
			n.Annotations = map[string]string{"kwok.x-k8s.io/node": "fake"}
		}
		return n
	}
	onNode := []corev1.Pod{{Spec: corev1.PodSpec{NodeName: "a"}}}
	pending := append(onNode, corev1.Pod{})
	for _, tc := range []struct {
		node *corev1.Node
		pods []corev1.Pod
		want bool
	}{
		{node("a", false), onNode, true},
		{node("b", false), onNode, false}, // no pod runs there, none waits for a node
		{node("b", false), pending, true},
		{node("k", true), pending, false},
	} {
		if got := nodeMatters(tc.node, tc.pods); got != tc.want {
			t.Errorf("node %s, %d pods: %t, want %t", tc.node.Name, len(tc.pods), got, tc.want)
		}
	}
}
