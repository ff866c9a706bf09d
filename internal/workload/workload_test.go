package workload

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 4, 4, 8, 0, 0, 0, time.UTC)

func controlledBy(kind, name string, uid types.UID) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: &yes}}
}

func podTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: image}}},
	}
}

func pod(name string, owner []metav1.OwnerReference, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: owner}}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"deploy", Deployment}, {"Deployment", Deployment}, {"deployments.apps", Deployment},
		{"sts", StatefulSet}, {"StatefulSet", StatefulSet}, {"ds", DaemonSet}, {"daemonset.apps", DaemonSet},
		{"job", Job}, {"jobs.batch", Job}, {"Job", Job}, {"cronjob", ""}, {"service", ""},
	} {
		got := ""
		if k, ok := Lookup(tc.in); ok {
			got = k.Name()
		}
		if got != tc.want {
			t.Errorf("Lookup(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := For(&corev1.Pod{}); err == nil {
		t.Error("For(pod) must refuse a kind the gate does not judge")
	}
}

// replicaSet is a ReplicaSet of the Deployment "api" (uid dep) holding a template with image.
func replicaSet(name, rev, image string, owner types.UID, created time.Time) *appsv1.ReplicaSet {
	t := podTemplate(image)
	t.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = name
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-" + name, UID: types.UID("rs-" + name),
		CreationTimestamp: metav1.NewTime(created), Labels: t.Labels,
		Annotations:     map[string]string{RevisionAnnotation: rev},
		OwnerReferences: controlledBy(Deployment, "api", owner)},
		Spec: appsv1.ReplicaSetSpec{Template: t}}
}

func TestDeploymentRevisionsAreTheControllers(t *testing.T) {
	t.Parallel()
	rss := []*appsv1.ReplicaSet{
		replicaSet("a", "2", "v2", "dep", t0),
		replicaSet("b", "10", "v10", "dep", t0),
		replicaSet("c", "9", "v9", "dep", t0),
		replicaSet("d", "3", "v3", "dep", t0),
		replicaSet("x", "11", "v10", "other", t0), // another Deployment's, with the same template
	}
	tests := []struct {
		name, image       string
		rss               []*appsv1.ReplicaSet
		wantCur, wantPrev string
	}{
		{"new is the ReplicaSet of the template; previous the highest revision below it", "v10", rss, "api-b", "api-c"},
		{"a template rolled back by hand, before the controller renumbers it", "v9", rss, "api-c", "api-d"},
		{"first deploy", "v2", rss[:1], "api-a", ""},
		{"the controller has not made the ReplicaSet yet", "v12", rss, "", ""},
		{"after a hash collision the oldest equal template wins", "v2",
			append([]*appsv1.ReplicaSet{replicaSet("a2", "12", "v2", "dep", t0.Add(time.Minute))}, rss...), "api-a", ""},
		{"created in the same second, the first by name wins, as kubectl sorts them", "v2",
			append([]*appsv1.ReplicaSet{replicaSet("z", "12", "v2", "dep", t0)}, rss...), "api-a", ""},
	}
	for _, tt := range tests {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", UID: "dep"},
			Spec: appsv1.DeploymentSpec{Template: podTemplate(tt.image)}}
		wl, err := For(d)
		if err != nil {
			t.Fatal(err)
		}
		cur, prev := wl.Revisions(History{ReplicaSets: tt.rss})
		if name(cur) != tt.wantCur || name(prev) != tt.wantPrev {
			t.Errorf("%s: got %s and %s, want %s and %s", tt.name, name(cur), name(prev), tt.wantCur, tt.wantPrev)
		}
	}
}

func TestRevisionPodsAreOwnedAndLabelled(t *testing.T) {
	t.Parallel()
	rs := replicaSet("b", "10", "v10", "dep", t0)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", UID: "dep"}, Spec: appsv1.DeploymentSpec{Template: podTemplate("v10")}}
	wl, _ := For(d)
	cur, _ := wl.Revisions(History{ReplicaSets: []*appsv1.ReplicaSet{rs}})
	hash := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "b"}
	pods := []*corev1.Pod{
		pod("new", controlledBy("ReplicaSet", "api-b", rs.UID), hash),
		pod("orphan", nil, hash),
		pod("adopted-elsewhere", controlledBy("ReplicaSet", "api-b", "another-uid"), hash),
		pod("old-label", controlledBy("ReplicaSet", "api-b", rs.UID), map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "a"}),
	}
	got := cur.Pods(pods)
	if len(got) != 1 || got[0].Name != "new" {
		t.Errorf("pods of the revision = %v, want only new", names(got))
	}
	if cur.ID != "10" || cur.NumberString() != "10" || !cur.Since(got).Equal(t0) || cur.Owner.Kind != "ReplicaSet" {
		t.Errorf("revision %+v: want ID 10, since the ReplicaSet's creation, pods owned by the ReplicaSet", cur)
	}
}

func controllerRev(name string, rev int64, kind, owner string, uid types.UID, image string) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("cr-" + name),
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: name[len(owner)+1:]}, OwnerReferences: controlledBy(kind, owner, uid)},
		Revision: rev, Data: runtime.RawExtension{Object: &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: podTemplate(image)}}}}
}

// controllerRevs is a history of revisions 1 to 3 (images v1 to v3, out of order) of the workload
// owner of kind, and a revision 9 with foreignImage that another workload of the same name controls.
func controllerRevs(kind, owner string, uid types.UID, foreignImage string) []*appsv1.ControllerRevision {
	return []*appsv1.ControllerRevision{
		controllerRev(owner+"-111", 1, kind, owner, uid, "v1"),
		controllerRev(owner+"-333", 3, kind, owner, uid, "v3"),
		controllerRev(owner+"-222", 2, kind, owner, uid, "v2"),
		controllerRev(owner+"-999", 9, kind, owner, "other", foreignImage),
	}
}

func TestStatefulSetRevisionsFollowTheUpdateRevision(t *testing.T) {
	t.Parallel()
	crs := controllerRevs(StatefulSet, "web", "sts", "v9")
	sts := func(update string, observed int64) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "sts", Generation: 4},
			Spec:   appsv1.StatefulSetSpec{Template: podTemplate("v3")},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: observed, UpdateRevision: update}}
	}
	tests := []struct {
		name              string
		s                 *appsv1.StatefulSet
		h                 History
		wantCur, wantPrev string
	}{
		{"update revision and the highest below it", sts("web-333", 4), History{ControllerRevisions: crs}, "web-333", "web-222"},
		{"not observed yet", sts("web-222", 3), History{ControllerRevisions: crs}, "", ""},
		{"no update revision yet", sts("", 4), History{ControllerRevisions: crs}, "", ""},
		{"read without history (the watch)", sts("web-333", 4), History{}, "web-333", ""},
	}
	for _, tt := range tests {
		wl, _ := For(tt.s)
		cur, prev := wl.Revisions(tt.h)
		if name(cur) != tt.wantCur || name(prev) != tt.wantPrev {
			t.Errorf("%s: got %s and %s, want %s and %s", tt.name, name(cur), name(prev), tt.wantCur, tt.wantPrev)
		}
	}
	wl, _ := For(sts("web-333", 4))
	cur, prev := wl.Revisions(History{ControllerRevisions: crs})
	if prev.ID != "web-222" {
		t.Errorf("previous revision is called %q, want web-222", prev.ID)
	}
	if tpl, err := prev.Template(); err != nil || tpl.Spec.Containers[0].Image != "v2" {
		t.Errorf("previous template = %v, %v; want image v2", tpl, err)
	}
	got := cur.Pods([]*corev1.Pod{
		pod("web-0", controlledBy(StatefulSet, "web", "sts"), map[string]string{appsv1.ControllerRevisionHashLabelKey: "web-333"}),
		pod("web-1", controlledBy(StatefulSet, "web", "sts"), map[string]string{appsv1.ControllerRevisionHashLabelKey: "web-222"}),
	})
	if len(got) != 1 || got[0].Name != "web-0" || cur.ID != "web-333" || cur.NumberString() != "3" {
		t.Errorf("pods %v of revision %s (%s): want web-0 of web-333, number 3", names(got), cur.ID, cur.NumberString())
	}
}

func TestDaemonSetRevisionsFollowTheTemplate(t *testing.T) {
	t.Parallel()
	crs := controllerRevs(DaemonSet, "agent", "ds", "v3")
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", UID: "ds", Generation: 5,
		Annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "4"}},
		Spec: appsv1.DaemonSetSpec{Template: podTemplate("v3")}}
	wl, _ := For(ds)
	cur, prev := wl.Revisions(History{ControllerRevisions: crs})
	if name(cur) != "agent-333" || name(prev) != "agent-222" || cur.ID != "generation 4" {
		t.Fatalf("got %s (%s) and %s, want agent-333 (generation 4) and agent-222", name(cur), cur.ID, name(prev))
	}
	owner := controlledBy(DaemonSet, "agent", "ds")
	pods := []*corev1.Pod{
		pod("by-generation", owner, map[string]string{templateGenerationLabel: "4"}),
		pod("by-hash", owner, map[string]string{appsv1.ControllerRevisionHashLabelKey: "333"}),
		pod("old", owner, map[string]string{templateGenerationLabel: "3", appsv1.ControllerRevisionHashLabelKey: "222"}),
	}
	if got := names(cur.Pods(pods)); len(got) != 2 || got[0] != "by-generation" || got[1] != "by-hash" {
		t.Errorf("pods of the revision = %v, want by-generation and by-hash", got)
	}
	// Read without history (the watch), a DaemonSet's new pods are those of its template generation.
	cur, prev = wl.Revisions(History{})
	if got := names(cur.Pods(pods)); prev != nil || len(got) != 1 || got[0] != "by-generation" || cur.ID != "generation 4" {
		t.Errorf("without history: pods %v, previous %v", got, prev)
	}
}

func TestRevisionTemplateNeedsData(t *testing.T) {
	t.Parallel()
	r := &Revision{ID: "x", cr: &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "empty"}}}
	if _, err := r.Template(); err == nil {
		t.Error("a revision without data must be an error")
	}
}

func TestProgressCounts(t *testing.T) {
	t.Parallel()
	three := int32(3)
	tests := []struct {
		obj  runtime.Object
		want string
	}{
		{&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three},
			Status: appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}}, "3/3 updated, 2/3 available"},
		{&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three},
			Status: appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3}}, "1/3 updated, 3 available of which 3 old pending termination"},
		{&appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{UpdatedReplicas: 1, ReadyReplicas: 0}}, "1/1 updated, 0/1 ready"},
		{&appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, NumberAvailable: 1}}, "2/2 updated, 1/2 available"},
		{&batchv1.Job{Status: batchv1.JobStatus{Active: 1, Failed: 1}}, "0/1 succeeded, 1 active, 1 failed"},
		{&batchv1.Job{Spec: batchv1.JobSpec{Completions: &three, BackoffLimit: &three, Suspend: ptrTo(true)}, Status: batchv1.JobStatus{Succeeded: 2}},
			"2/3 succeeded, 0 active, 0 failed (backoff limit 3, suspended)"},
	}
	for _, tt := range tests {
		wl, err := For(tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		if got := wl.Progress(); got != tt.want {
			t.Errorf("%T: Progress() = %q, want %q", tt.obj, got, tt.want)
		}
	}
}

func name(r *Revision) string {
	if r == nil {
		return ""
	}
	return r.Name
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// jobPod is a pod the Job controller made for the Job with uid: owned by it and labelled with uid.
func jobPod(name string, uid types.UID, labelled bool) *corev1.Pod {
	yes := true
	owner := []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: Job, Name: "migrate", UID: uid, Controller: &yes}}
	labels := map[string]string{"job-name": "migrate"}
	if labelled {
		labels[batchv1.ControllerUidLabel] = string(uid)
	}
	return pod(name, owner, labels)
}

// TestJobPodsAreItsUIDs: a Job re-created under the same name claims only the pods of its own uid,
// through the controller-uid label and the owner reference; with a selector of the user's own
// (manualSelector) the pods carry no such label and the owner reference decides.
func TestJobPodsAreItsUIDs(t *testing.T) {
	t.Parallel()
	pods := []*corev1.Pod{
		jobPod("new", "new-uid", true),
		jobPod("old", "old-uid", true),
		jobPod("new-unlabelled", "new-uid", false),
		pod("same-label-not-owned", nil, map[string]string{batchv1.ControllerUidLabel: "new-uid", "job-name": "migrate"}),
	}
	tests := []struct {
		name   string
		manual bool
		want   []string
	}{
		{"generated selector: owned and labelled", false, []string{"new"}},
		{"manual selector: owned", true, []string{"new", "new-unlabelled"}},
	}
	for _, tt := range tests {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate", UID: "new-uid", CreationTimestamp: metav1.NewTime(t0)},
			Spec: batchv1.JobSpec{ManualSelector: &tt.manual, Template: podTemplate("migrate:v2")}}
		wl, err := For(j)
		if err != nil {
			t.Fatal(err)
		}
		cur, prev := wl.Revisions(History{})
		if cur == nil || prev != nil {
			t.Fatalf("%s: revisions %v and %v, want the Job itself and none before it", tt.name, cur, prev)
		}
		if got := names(cur.Pods(pods)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: pods %v, want %v", tt.name, got, tt.want)
		}
		if !cur.Since(nil).Equal(t0) || cur.Owner.UID != "new-uid" {
			t.Errorf("%s: revision %+v, want it owned by new-uid and begun at the Job's creation", tt.name, cur)
		}
	}
}

func TestJobOutcome(t *testing.T) {
	t.Parallel()
	cond := func(typ batchv1.JobConditionType, status corev1.ConditionStatus, reason string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: typ, Status: status, Reason: reason, Message: reason + " message"}
	}
	tests := []struct {
		name  string
		conds []batchv1.JobCondition
		want  Outcome
	}{
		{"running", nil, Outcome{}},
		{"complete", []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, "CompletionsReached"), cond(batchv1.JobComplete, corev1.ConditionTrue, "CompletionsReached")},
			Outcome{Done: true, Reason: "Complete", Message: "CompletionsReached message"}},
		{"failed", []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue, "BackoffLimitExceeded"), cond(batchv1.JobFailed, corev1.ConditionTrue, "BackoffLimitExceeded")},
			Outcome{Failed: true, Reason: "BackoffLimitExceeded", Message: "BackoffLimitExceeded message"}},
		{"failure target before failed", []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue, "DeadlineExceeded")},
			Outcome{Failed: true, Reason: "DeadlineExceeded", Message: "DeadlineExceeded message"}},
		{"a condition that is not true says nothing", []batchv1.JobCondition{cond(batchv1.JobFailed, corev1.ConditionFalse, "BackoffLimitExceeded")}, Outcome{}},
		{"suspended", []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended")}, Outcome{}},
	}
	for _, tt := range tests {
		wl, _ := For(&batchv1.Job{Status: batchv1.JobStatus{Conditions: tt.conds}})
		if got := wl.(Completion).Outcome(); got != tt.want {
			t.Errorf("%s: Outcome() = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	d, _ := For(&appsv1.Deployment{})
	_, completes := d.(Completion)
	_, rollsOut := d.Kind().(RolloutKind)
	if completes || !rollsOut {
		t.Errorf("a Deployment runs to completion (%v) or is no rollout kind (%v): it is a rollout", completes, !rollsOut)
	}
	j, _ := For(&batchv1.Job{})
	if _, rollsOut := j.Kind().(RolloutKind); rollsOut {
		t.Errorf("a Job is a rollout kind: it runs to completion and has nothing to roll back")
	}
}

func ptrTo[T any](v T) *T { return &v }
