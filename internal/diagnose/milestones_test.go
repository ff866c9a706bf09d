package diagnose

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func TestMilestones(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 4, 4, 8, 12, 0, 0, time.UTC)
	pod := func(name string, created time.Time) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}}
	}
	for _, tc := range []struct {
		name     string
		revision string
		since    time.Time
		pods     []corev1.Pod
		want     []string // kind:what, in order
	}{
		{"revision and pods, in time order", "5", t0, []corev1.Pod{pod("b", t0.Add(2*time.Second)), pod("a", t0.Add(time.Second))},
			[]string{"rollout:rollout of revision 5 began", "pod:pod a created", "pod:pod b created"}},
		{"no revision", "", t0, nil, []string{"rollout:rollout began"}},
		{"start unknown, pod without a creation time", "5", time.Time{}, []corev1.Pod{pod("a", time.Time{}), pod("b", t0)},
			[]string{"pod:pod b created"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, m := range Milestones(tc.revision, tc.since, tc.pods) {
				got = append(got, string(m.Kind)+":"+m.What)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("milestones %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("milestones %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// TestTimelineMarksCrashes: a container's end is a crash when it failed (non-zero exit, a signal,
// OOMKilled), not when it completed.
func TestTimelineMarksCrashes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 4, 4, 8, 12, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		term corev1.ContainerStateTerminated
		want report.MomentKind
	}{
		{"exit 1", corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}, report.MomentCrash},
		{"OOMKilled", corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}, report.MomentCrash},
		{"signal", corev1.ContainerStateTerminated{Signal: 9}, report.MomentCrash},
		{"OOMKilled with exit 0", corev1.ContainerStateTerminated{Reason: "OOMKilled"}, report.MomentCrash},
		{"completed", corev1.ContainerStateTerminated{Reason: "Completed"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			term := tc.term
			term.StartedAt, term.FinishedAt = metav1.NewTime(t0.Add(time.Second)), metav1.NewTime(t0.Add(2*time.Second))
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", CreationTimestamp: metav1.NewTime(t0)},
				Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "api", State: corev1.ContainerState{Terminated: &term}}}}}
			ms := timeline(&evidence{Since: t0, Revision: "2", Pods: []corev1.Pod{p}})
			var ends []report.Moment
			for _, m := range ms {
				if m.At.Equal(t0.Add(2 * time.Second)) {
					ends = append(ends, m)
				}
			}
			if len(ends) != 1 || ends[0].Kind != tc.want {
				t.Errorf("moments at the container's end %+v, want one of kind %q", ends, tc.want)
			}
		})
	}
}
