//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 26: an error that only a change can clear fails the rollout at once; one that waiting may
// clear waits out --pending-grace. Each final case runs with a grace past --timeout (the shared
// `fast` flags plus these), so a verdict that waited would be a timeout, not a failure: no timed
// assertion, and the scenario table prints how long each took.
var waitedWouldTimeOut = []string{"--pending-grace", "120s"}

// registryHost is the local cluster's OCI registry (hack/cluster-up.sh: in memory, plain HTTP on
// loopback, named in containerd's hosts.toml). The test pushes one tag of a repository to it and
// pulls another, so the registry's answer is MANIFEST_UNKNOWN (a repository it does not have at
// all would be NAME_UNKNOWN).
const registryHost = "127.0.0.1:15000"

func TestFinalErrors(t *testing.T) {
	t.Parallel()
	// checkFinding adds each scenario's row (verdict, cause, time) to diagRows.
	t.Cleanup(func() { t.Logf("scenario table:\n%s", finalRows.String()+"\n"+finalOf(diagRows.String())) })
	for _, sc := range finalScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(sc.name, "manifest-unknown") {
				requireRegistry(t)
				pushEmptyImage(t, "rollout-gate/api", "v1")
			}
			runScenario(t, sc)
		})
	}
}

func finalScenarios() []diagScenario {
	notWaited := func(t *testing.T, run gateRun, _ report.Finding) {
		if w := run.workload(t, "deployment/api"); strings.Contains(w.Message, "for more than") {
			t.Errorf("a final error waited out the grace: %s", w.Message)
		}
	}
	// noClass is a StorageClass no cluster has: the scheduler says only "pod has unbound
	// immediate PersistentVolumeClaims", and the gate gets the claim and its class to know more.
	const noClass = "rollout-gate-e2e-no-such-class"
	unknownClass := func(ref string) func(t *testing.T, run gateRun, f report.Finding) {
		return func(t *testing.T, run gateRun, f report.Finding) {
			w := run.workload(t, ref)
			if strings.Contains(w.Message, "for more than") || !strings.Contains(w.Message, "(the StorageClass does not exist)") {
				t.Errorf("the verdict does not fail at once on the StorageClass: %s", w.Message)
			}
			// With the PV binder running (hack/cluster-up.sh), its own words are evidence too.
			t.Logf("the verdict: %s\nevidence:\n%s", w.Message, strings.Join(f.Evidence, "\n"))
		}
	}
	return []diagScenario{
		{
			// The registry answers, and it has no such tag: containerd's words are
			// `failed to resolve reference "127.0.0.1:15000/…": …: not found`.
			name: "final/manifest-unknown",
			stage: deployAPI(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].Image = registryHost + "/rollout-gate/api:v2-does-not-exist"
				d.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
			}),
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, cause: report.CauseImagePull, container: "app",
			says: []string{registryHost + "/rollout-gate/api:v2-does-not-exist"},
			check: func(t *testing.T, run gateRun, f report.Finding) {
				notWaited(t, run, f)
				w := run.workload(t, "deployment/api")
				all := w.Message + "\n" + strings.Join(f.Evidence, "\n")
				t.Logf("the verdict: %s", w.Message)
				if !strings.Contains(all, "not found") {
					t.Errorf("the registry's answer (not found) is not quoted:\n%s", all)
				}
				for _, wrong := range []string{"no such host", "connection refused", "HTTP response to HTTPS client"} {
					if strings.Contains(all, wrong) {
						t.Errorf("the pull never reached the registry (%q): the local registry or containerd's hosts.toml is wrong:\n%s", wrong, all)
					}
				}
			},
		},
		{
			name: "final/missing-pvc",
			stage: deployAPI(func(d *appsv1.Deployment) {
				mountVolume(d, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "claims-data"}}}, "/data")
			}),
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseUnschedulable,
			says:  []string{"PersistentVolumeClaim"},
			fix:   "kubectl get pvc",
			check: notWaited,
		},
		{
			name: "final/unknown-storageclass",
			stage: func(s *stage) {
				createClaim(s, "api-data", noClass)
				deployAPI(func(d *appsv1.Deployment) {
					mountVolume(d, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "api-data"}}}, "/data")
				})(s)
			},
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseMissingStorageClass,
			says:     []string{"StorageClass " + noClass + " does not exist", "PersistentVolumeClaim", "api-data"},
			evidence: "StorageClasses in the cluster:",
			fix:      "kubectl delete pvc api-data",
			check:    unknownClass("deployment/api"),
		},
		{
			// The claim comes from the StatefulSet's volumeClaimTemplates: data-web-0.
			name: "final/unknown-storageclass-statefulset",
			ref:  "statefulset/web",
			stage: func(s *stage) {
				sts := framework.StatefulSet(s.ns, "web")
				sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: claimSpec(noClass)}}
				c := &sts.Spec.Template.Spec.Containers[0]
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "data", MountPath: "/data"})
				// As stage.deploy does: a Secret in the pod, so the leak check has a value to look for.
				s.secret("app-token", "token")
				c.Env = append(c.Env, framework.EnvFromSecret(tokenEnv, "app-token", "token"))
				framework.Apply(s.t, s.c, sts)
			},
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseMissingStorageClass,
			says:  []string{"StorageClass " + noClass + " does not exist", "data-web-0", "volumeClaimTemplates entry data"},
			fix:   "--cascade=orphan",
			check: unknownClass("statefulset/web"),
		},
		{
			name: "final/limitrange",
			stage: func(s *stage) {
				_, err := s.c.CoreV1().LimitRanges(s.ns).Create(context.Background(), &corev1.LimitRange{
					ObjectMeta: metav1.ObjectMeta{Name: "small"},
					Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
						Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
				}, metav1.CreateOptions{})
				if err != nil {
					s.t.Fatal(err)
				}
				d := framework.Deployment(s.ns, "api")
				d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("", "128Mi")
				s.deploy(d)
			},
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, reason: "FailedCreate", cause: report.CauseCreateDenied,
			says:     []string{"a LimitRange rejects their resources", "maximum memory usage per Container is 64Mi"},
			evidence: "maximum memory usage per Container is 64Mi",
			fix:      "kubectl describe limitrange",
			check:    notWaited,
		},
		{
			// The autoscaler's verdict is an event on the pod (type Normal); this cluster has no
			// autoscaler, so the test records the event it would, as it would.
			name: "final/autoscaler-will-not-scale-up",
			stage: func(s *stage) {
				unschedulable(s)
				autoscalerEvent(s, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached")
			},
			args:    waitedWouldTimeOut,
			verdict: report.VerdictFailed, reason: "Unschedulable", cause: report.CauseUnschedulable,
			says: []string{"Insufficient cpu"},
			check: func(t *testing.T, run gateRun, f report.Finding) {
				notWaited(t, run, f)
				if w := run.workload(t, "deployment/api"); !strings.Contains(w.Message, "will not add a node for it (pod didn't trigger scale-up: 1 max node group size reached)") {
					t.Errorf("the verdict does not quote the autoscaler: %s", w.Message)
				}
			},
		},
	}
}

// claimSpec asks for a small ReadWriteOnce volume of class.
func claimSpec(class string) corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{StorageClassName: &class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}}}
}

// createClaim creates PersistentVolumeClaim name of class in the stage's namespace.
func createClaim(s *stage, name, class string) {
	s.t.Helper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: claimSpec(class)}
	if _, err := s.c.CoreV1().PersistentVolumeClaims(s.ns).Create(context.Background(), pvc, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// TestTransientErrorsWait: a scale-up under way outlasts the grace. With a grace of 8 s and a
// timeout of 30 s, an unschedulable pod fails at 8 s; with a TriggeredScaleUp on it, the gate is
// still waiting for the node when the timeout ends the run.
func TestTransientErrorsWait(t *testing.T) {
	t.Parallel()
	framework.GateBinary(t)
	c, ns := framework.Client(t), framework.Namespace(t)
	s := &stage{t: t, c: c, ns: ns}
	unschedulable(s)
	autoscalerEvent(s, "TriggeredScaleUp", "pod triggered scale-up: [{workers 1->2 (max: 3)}]")
	run := runGate(t, "-n", ns, "--workload", "deployment/api", "--timeout", "30s", "--pending-grace", "8s")
	w := run.workload(t, "deployment/api")
	finalRows.add(fmt.Sprintf("transient/autoscaler-adding-a-node: %s %s in %.1fs", w.Verdict, w.Reason, run.Duration.Seconds()))
	if w.Verdict != report.VerdictTimeout {
		t.Fatalf("verdict %s (%s: %s), want timeout: a pod the autoscaler is adding a node for waits past the 8s grace", w.Verdict, w.Reason, w.Message)
	}
	checkNoSecret(t, run, s.values)
}

var finalRows rowLog

// finalOf keeps the rows of the final/ scenarios.
func finalOf(rows string) string {
	var out []string
	for _, r := range strings.Split(rows, "\n") {
		if strings.HasPrefix(r, "final/") {
			out = append(out, r)
		}
	}
	return strings.Join(out, "\n")
}

// unschedulable deploys api asking for more CPU than any node has and waits for its pod to be
// called unschedulable.
func unschedulable(s *stage) {
	d := framework.Deployment(s.ns, "api")
	d.Spec.Template.Spec.Containers[0].Resources = framework.Resources("1000", "")
	s.deploy(d)
	framework.WaitForPod(s.t, s.c, s.ns, framework.Selector("api"), time.Minute, "pod unschedulable", func(p *corev1.Pod) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
				return true
			}
		}
		return false
	})
}

// autoscalerEvent records on api's pod the event a cluster autoscaler records (its legacy
// recorder: source component cluster-autoscaler, type Normal).
func autoscalerEvent(s *stage, reason, msg string) {
	s.t.Helper()
	pods, err := s.c.CoreV1().Pods(s.ns).List(context.Background(), metav1.ListOptions{LabelSelector: framework.Selector("api")})
	if err != nil || len(pods.Items) == 0 {
		s.t.Fatalf("list api's pods: %v (%d)", err, len(pods.Items))
	}
	recordAutoscalerEvent(s.t, s.c, &pods.Items[0], reason, msg)
}

func recordAutoscalerEvent(t *testing.T, c kubernetes.Interface, p *corev1.Pod, reason, msg string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	now := metav1.Now()
	_, err := c.CoreV1().Events(p.Namespace).Create(context.Background(), &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name + "." + hex.EncodeToString(b)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
			APIVersion: "v1", ResourceVersion: p.ResourceVersion},
		Type: corev1.EventTypeNormal, Reason: reason, Message: msg,
		Source:         corev1.EventSource{Component: "cluster-autoscaler"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("record the autoscaler's %s event: %v", reason, err)
	}
}

// requireRegistry skips when the local registry does not answer (a kind cluster, or a local
// cluster brought up before it had one).
func requireRegistry(t *testing.T) {
	t.Helper()
	cl := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}}
	resp, err := cl.Get("http://" + registryHost + "/v2/")
	if err != nil {
		t.Fatalf("no local registry at %s (make cluster-up starts one): %v", registryHost, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/v2/ answered %s: not an OCI registry", registryHost, resp.Status)
	}
}

// pushEmptyImage pushes an OCI image of no layers as repo:tag to the local registry (the
// distribution API's monolithic blob upload, then the manifest), so that repo exists there.
func pushEmptyImage(t *testing.T, repo, tag string) {
	t.Helper()
	cl := http.Client{Timeout: 10 * time.Second}
	do := func(method, url, ctype string, body []byte, want int) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ctype)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: %s %s, want %d", method, url, resp.Status, b, want)
		}
	}
	config := []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`)
	sum := sha256.Sum256(config)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	base := "http://" + registryHost + "/v2/" + repo
	do(http.MethodPost, base+"/blobs/uploads/?digest="+digest, "application/octet-stream", config, http.StatusCreated)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, digest, len(config))
	do(http.MethodPut, base+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", []byte(manifest), http.StatusCreated)
}

// TestUnknownStorageClassUnderLoad: with both cores busy the claim check still fails the rollout
// at once (a grace past the timeout, as in TestFinalErrors: a verdict that waited would time out).
func TestUnknownStorageClassUnderLoad(t *testing.T) {
	framework.LoadCPU(t, 2)
	for _, sc := range finalScenarios() {
		if strings.HasPrefix(sc.name, "final/unknown-storageclass") {
			t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
		}
	}
}

// TestUnboundClaimOfAClassThatExistsWaits: a claim whose StorageClass exists but whose volume has
// not come yet (no provisioner here serves the class) may still bind, so the pod waits out the
// grace: the claim check fails only a class that does not exist.
func TestUnboundClaimOfAClassThatExistsWaits(t *testing.T) {
	t.Parallel()
	framework.GateBinary(t)
	c, ns := framework.Client(t), framework.Namespace(t)
	s := &stage{t: t, c: c, ns: ns}
	class := ns // namespaces are unique per test: so is the class, which is cluster-scoped
	if _, err := c.StorageV1().StorageClasses().Create(context.Background(), &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "rollout-gate.example/none"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{}) })
	createClaim(s, "api-data", class)
	deployAPI(func(d *appsv1.Deployment) {
		mountVolume(d, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "api-data"}}}, "/data")
	})(s)
	run := runGate(t, "-n", ns, "--workload", "deployment/api", "--timeout", "60s", "--pending-grace", "8s")
	w := run.workload(t, "deployment/api")
	finalRows.add(fmt.Sprintf("transient/unbound-claim-class-exists: %s %s in %.1fs", w.Verdict, w.Reason, run.Duration.Seconds()))
	if w.Verdict != report.VerdictFailed || !strings.Contains(w.Message, "unschedulable for more than 8s") {
		t.Fatalf("verdict %s (%s: %s), want failed after the 8s grace", w.Verdict, w.Reason, w.Message)
	}
	if len(w.Findings) > 0 && w.Findings[0].Cause == report.CauseMissingStorageClass {
		t.Errorf("StorageClass %s exists, yet the finding says it does not: %s", class, w.Findings[0].Summary)
	}
}
