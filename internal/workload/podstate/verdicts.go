package podstate

// The watch's reasons for a failed verdict on what the kubelet reports, beyond the kubelet's own
// reasons (CrashLoopBackOff, OOMKilled, FailedMount, ...). The diagnosis reads them back to know
// what the watch has already waited out; both take them from here.
const (
	// VerdictReadinessProbeFailing: a running container's readiness probe kept failing past
	// its window and the grace.
	VerdictReadinessProbeFailing = "ReadinessProbeFailing"
	// VerdictReadinessFlapping: a pod kept turning NotReady while its containers kept running.
	VerdictReadinessFlapping = "ReadinessFlapping"
)

// ProbeCannotWorkVerdict is the watch's reason for a liveness or startup probe that cannot work:
// it errors on every run (LivenessProbeErrored, StartupProbeErrored) or fails on every run
// without the kill that must follow (LivenessProbeFailing, StartupProbeFailing).
func ProbeCannotWorkVerdict(k ProbeKind, errored bool) string {
	if errored {
		return string(k) + "ProbeErrored"
	}
	return string(k) + "ProbeFailing"
}

// MinProbeErrors is how many errored runs of a liveness or startup probe in one run of the
// container show that the kubelet cannot run it: more than one, so that a single exec that raced
// a restart is not a verdict. The watch fails on it once the kill window is over; the diagnosis
// names it when the watch failed the rollout for something else.
const MinProbeErrors = 3
