package diagnose

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// A fixture is a directory under testdata/ holding objects.yaml (the objects as read from a
// cluster: workload, ReplicaSets or ControllerRevisions, pods, events, Secrets, Services...) and
// one <pod>.<container>.log per container log, with the timestamps the API adds.
type fixture struct {
	objs     []runtime.Object
	workload runtime.Object
	pods     []corev1.Pod
	logs     map[string]string // logKey -> log text
}

var fixtureNow = time.Date(2026, 4, 4, 8, 20, 0, 0, time.UTC)

func loadFixture(t testing.TB, dir string) fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", dir, "objects.yaml"))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	fx := fixture{logs: map[string]string{}}
	dec := scheme.Codecs.UniversalDeserializer()
	var sel labels.Selector = labels.Nothing()
	for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s document %d: %v", dir, i, err)
		}
		fx.objs = append(fx.objs, obj)
		if wl, err := workload.For(obj); err == nil && fx.workload == nil {
			fx.workload, sel = obj, wl.Selector()
		}
	}
	for _, obj := range fx.objs {
		if p, ok := obj.(*corev1.Pod); ok && sel.Matches(labels.Set(p.Labels)) {
			fx.pods = append(fx.pods, *p)
		}
	}
	logs, _ := filepath.Glob(filepath.Join("testdata", dir, "*.log"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pod, container, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".log"), ".")
		fx.logs[logKey(pod, container)] = string(b)
	}
	return fx
}

// recordedLogs serves recorded logs, and can fail the first reads of a container to model the
// kubelet briefly losing a dead container's log.
type recordedLogs struct {
	mu    sync.Mutex
	logs  map[string]string
	fails map[string]int   // logKey -> reads of the previous log to fail first
	err   map[string]error // logKey -> error on every read
	calls []string
}

func (r *recordedLogs) Logs(_ context.Context, _, pod, container string, previous bool, tail int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := logKey(pod, container)
	r.calls = append(r.calls, fmt.Sprintf("%s previous=%t tail=%d", k, previous, tail))
	if err := r.err[k]; err != nil {
		return nil, err
	}
	if previous && r.fails[k] > 0 {
		r.fails[k]--
		return nil, fmt.Errorf("unable to retrieve container logs for containerd://0123abcd")
	}
	return []byte(r.logs[k]), nil
}

// diagnoser returns a Diagnoser over a fake clientset holding the fixture's objects.
func (fx fixture) diagnoser(logs map[string]string) (*Diagnoser, *fake.Clientset, *recordedLogs) {
	merged := map[string]string{}
	for k, v := range fx.logs {
		merged[k] = v
	}
	for k, v := range logs {
		merged[k] = v
	}
	cs := fake.NewClientset(fx.objs...)
	rl := &recordedLogs{logs: merged, fails: map[string]int{}, err: map[string]error{}}
	return &Diagnoser{Client: kubetest.Wrap(cs), Logs: rl, LogLines: 50, Now: func() time.Time { return fixtureNow }, retryDelay: time.Millisecond}, cs, rl
}

func (fx fixture) input(reason string) Input {
	return Input{Workload: fx.workload, Pods: fx.pods, Since: time.Date(2026, 4, 4, 8, 10, 0, 0, time.UTC), Reason: reason}
}

// diagnosed is the diagnosis of fixture dir's pods, crash-looping, with its recorded logs.
func diagnosed(t testing.TB, dir string) Result {
	t.Helper()
	fx := loadFixture(t, dir)
	d, _, _ := fx.diagnoser(nil)
	return fx.crashLoop(t, d)
}

// crashLoop diagnoses fx's pods as crash-looping with d, and stops the test on an error.
func (fx fixture) crashLoop(t testing.TB, d *Diagnoser) Result {
	t.Helper()
	res, err := d.Diagnose(context.Background(), fx.input("CrashLoopBackOff"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func metav1GetOptions() metav1.GetOptions       { return metav1.GetOptions{} }
func metav1UpdateOptions() metav1.UpdateOptions { return metav1.UpdateOptions{} }

// Fixtures are as read from a cluster: every owner reference carries the uid of its owner, as
// the diagnosis matches owners by uid only.
func TestFixtureOwnersCarryUIDs(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "objects.yaml"))
	recorded, _ := filepath.Glob(filepath.Join("testdata", "recorded*", "*", "objects.yaml")) // every version's set
	for _, path := range append(dirs, recorded...) {
		dir, _ := filepath.Rel("testdata", filepath.Dir(path))
		fx := loadFixture(t, dir)
		uids := map[string]types.UID{}
		for _, o := range fx.objs {
			m, err := meta.Accessor(o)
			if err != nil {
				continue
			}
			uids[o.GetObjectKind().GroupVersionKind().Kind+"/"+m.GetName()] = m.GetUID()
		}
		for _, o := range fx.objs {
			m, err := meta.Accessor(o)
			if err != nil {
				continue
			}
			for _, ref := range m.GetOwnerReferences() {
				want, known := uids[ref.Kind+"/"+ref.Name]
				if ref.UID == "" || known && ref.UID != want {
					t.Errorf("%s: %s owner reference to %s/%s has uid %q, want that of the owner (%q)", dir, m.GetName(), ref.Kind, ref.Name, ref.UID, want)
				}
			}
		}
	}
}
