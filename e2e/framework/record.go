package framework

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// recordFixtures makes the diagnosis scenarios write what the cluster holds into the unit tests'
// fixtures, so that the diagnosis is tested on what a kubelet really wrote.
var recordFixtures = flag.Bool("record-fixtures", false, "write each diagnosis scenario's objects and logs to internal/diagnose/testdata/recorded/")

// recordSet names a second set of fixtures, recorded on another Kubernetes version than the
// default: "v1.37" writes to internal/diagnose/testdata/recorded-v1.37/ (make test-versions
// RECORD=1 sets it to the version under test).
var recordSet = flag.String("record-fixtures-set", "", "with -record-fixtures: the fixture set to write, e.g. v1.37 (default: the default version's)")

// Recording says whether -record-fixtures is set.
func Recording() bool { return *recordFixtures }

// RecordedDir is where recorded fixtures live, from the module root: the default version's set;
// other sets sit beside it as RecordedDir-<set>.
const RecordedDir = "internal/diagnose/testdata/recorded"

// recordedDir is the folder of the set being recorded.
func recordedDir() string {
	if *recordSet == "" {
		return RecordedDir
	}
	return RecordedDir + "-" + *recordSet
}

// Expect is what the scenario's e2e test asserts, kept next to its recorded fixture.
type Expect struct {
	Scenario  string    `json:"scenario"`
	Workload  string    `json:"workload"`  // kind/name
	Reason    string    `json:"reason"`    // the watch's verdict reason in the recorded run
	Cause     string    `json:"cause"`     // the cause the e2e test expects
	Container string    `json:"container"` // the container the finding names, when the test says
	Since     time.Time `json:"since"`     // when the rollout began: the new revision's creation
	Now       time.Time `json:"now"`       // when it was recorded
}

// RecordFixture writes the objects of namespace ns and the logs of its containers into
// <module>/internal/diagnose/testdata/recorded/<scenario>/ in the format of the diagnose fixture
// loader: objects.yaml and <pod>.<container>.log. Secret values are never written: each becomes
// "recorded-<secret>-<key>", in the Secret and wherever a log printed it.
func RecordFixture(t testing.TB, c kubernetes.Interface, ns string, exp Expect) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("record fixture: %v", err)
	}
	dir := filepath.Join(root, recordedDir(), FixtureName(exp.Scenario))
	if err := recordFixture(context.Background(), c, ns, dir, exp); err != nil {
		t.Fatalf("record fixture %s: %v", exp.Scenario, err)
	}
	t.Logf("recorded fixture %s", dir)
}

// FixtureName is the folder of a scenario: its name with "/" as "--".
func FixtureName(scenario string) string { return strings.ReplaceAll(scenario, "/", "--") }

func recordFixture(ctx context.Context, c kubernetes.Interface, ns, dir string, exp Expect) error {
	all := metav1.ListOptions{}
	deps, errD := c.AppsV1().Deployments(ns).List(ctx, all)
	rss, errR := c.AppsV1().ReplicaSets(ns).List(ctx, all)
	pods, errP := c.CoreV1().Pods(ns).List(ctx, all)
	evs, errE := c.CoreV1().Events(ns).List(ctx, all)
	secrets, errS := c.CoreV1().Secrets(ns).List(ctx, all)
	cms, errC := c.CoreV1().ConfigMaps(ns).List(ctx, all)
	svcs, errV := c.CoreV1().Services(ns).List(ctx, all)
	eps, errX := c.DiscoveryV1().EndpointSlices(ns).List(ctx, all)
	nodes, errN := c.CoreV1().Nodes().List(ctx, all)
	if err := errors.Join(errD, errR, errP, errE, errS, errC, errV, errX, errN); err != nil {
		return fmt.Errorf("list the objects of namespace %s: %w", ns, err)
	}
	scrub := scrubSecrets(secrets.Items)
	nodes.Items = slices.DeleteFunc(nodes.Items, func(n corev1.Node) bool { return !nodeMatters(&n, pods.Items) })
	objs, err := itemsOf(deps, rss, pods, evs, secrets, cms, svcs, eps, nodes)
	if err != nil {
		return err
	}
	for i := range rss.Items {
		if t := rss.Items[i].CreationTimestamp.Time; t.After(exp.Since) {
			exp.Since = t
		}
	}
	if exp.Since.IsZero() && len(deps.Items) > 0 {
		exp.Since = deps.Items[0].CreationTimestamp.Time
	}
	exp.Now = time.Now().UTC().Truncate(time.Second)

	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var docs [][]byte
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		docs = append(docs, scrub(b))
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), bytes.Join(docs, []byte("---\n")), 0o644); err != nil {
		return err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
			log, ok := containerLog(ctx, c, ns, p.Name, cs)
			if !ok {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, p.Name+"."+cs.Name+".log"), scrub(log), 0o644); err != nil {
				return err
			}
		}
	}
	b, err := yaml.Marshal(exp)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "expect.yaml"), b, 0o644)
}

// containerLog reads the log the diagnosis would: the previous instance's for a container that
// restarted, else the current one; with the timestamps the API adds.
func containerLog(ctx context.Context, c kubernetes.Interface, ns, pod string, cs corev1.ContainerStatus) ([]byte, bool) {
	tail := int64(200)
	for _, previous := range []bool{cs.RestartCount > 0 || cs.LastTerminationState.Terminated != nil, false} {
		b, err := c.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: cs.Name, Previous: previous, TailLines: &tail, Timestamps: true}).DoRaw(ctx)
		if err == nil && len(b) > 0 && !bytes.Contains(b, []byte("unable to retrieve container logs")) {
			return b, true
		}
	}
	return nil, false
}

// nodeMatters: the nodes of the pods; and, when a pod has none, every node but those other tests
// fake with kwok (they come and go with those tests).
func nodeMatters(n *corev1.Node, pods []corev1.Pod) bool {
	unscheduled := false
	for i := range pods {
		if pods[i].Spec.NodeName == n.Name {
			return true
		}
		unscheduled = unscheduled || pods[i].Spec.NodeName == ""
	}
	_, fake := n.Annotations["kwok.x-k8s.io/node"]
	return unscheduled && !fake
}

// itemsOf returns the items of typed lists, each with its kind set and its managed fields gone.
func itemsOf(lists ...runtime.Object) ([]runtime.Object, error) {
	var out []runtime.Object
	for _, list := range lists {
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			gvks, _, err := scheme.Scheme.ObjectKinds(o)
			if err != nil || len(gvks) == 0 {
				return nil, fmt.Errorf("kind of %T: %v", o, err)
			}
			o.GetObjectKind().SetGroupVersionKind(gvks[0])
			if m, ok := o.(metav1.Object); ok {
				m.SetManagedFields(nil)
				if a := m.GetAnnotations(); a != nil {
					delete(a, "kubectl.kubernetes.io/last-applied-configuration") // the object again, Secrets' values included
				}
			}
			if n, ok := o.(*corev1.Node); ok {
				n.Status.Images = nil // megabytes of no interest to the diagnosis
			}
		}
		out = append(out, items...)
	}
	return out, nil
}

// scrubSecrets replaces every Secret value by "recorded-<secret>-<key>" in the Secrets and
// returns the function that does the same, in the value's plain and base64 forms, to any text.
func scrubSecrets(secrets []corev1.Secret) func([]byte) []byte {
	type pair struct{ from, to string }
	var pairs []pair
	for i := range secrets {
		s := &secrets[i]
		keys := make([]string, 0, len(s.Data))
		for k := range s.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			to := "recorded-" + s.Name + "-" + k
			// Shorter values would match ordinary text; the e2e stages write long ones.
			if v := string(s.Data[k]); len(strings.TrimSpace(v)) >= 4 {
				pairs = append(pairs, pair{v, to}, pair{strings.TrimSpace(v), to},
					pair{base64.StdEncoding.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(to))})
			}
			s.Data[k] = []byte(to)
		}
		s.StringData = nil
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return len(b.from) - len(a.from) })
	return func(b []byte) []byte {
		for _, p := range pairs {
			b = bytes.ReplaceAll(b, []byte(p.from), []byte(p.to))
		}
		return b
	}
}
