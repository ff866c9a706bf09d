package watch

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Final errors fail at once, transient ones after --pending-grace (issue 26). Whether waiting can
// help is decided here, by the message the kubelet, the scheduler, the API server or a cluster
// autoscaler wrote, in one table, so that the pull, scheduling and pod-creation rules agree. A
// message no row names keeps the rule's own default (the grace).

// finality is what waiting can do about an error.
type finality int

const (
	// undecided: no row names the message; the rule's default applies.
	undecided finality = iota
	// final: the message says only a change to the spec, the image or the cluster's objects
	// clears it; the rollout fails at once.
	final
	// transient: a retry, another rollout ending or a new node may clear it; the grace applies.
	transient
)

func (f finality) String() string {
	return [...]string{"undecided", "final", "transient"}[f]
}

// finalityRow is one row: every word of match (lower case) is in the message.
type finalityRow struct {
	match []string
	is    finality
	why   string
}

// finalityTable is walked in order and the first row that matches decides, so a transient row
// comes before a final one whose words it shares: a quota denial says "forbidden" as a
// PodSecurity one does, a registry's rate limit may say "denied".
var finalityTable = []finalityRow{
	// Retries clear these: the registry, the API server or the network was busy or away.
	{[]string{"toomanyrequests"}, transient, "the registry's rate limit"},
	{[]string{"too many requests"}, transient, "the registry's rate limit"},
	{[]string{"exceeded quota"}, transient, "a ResourceQuota, which another rollout ending may free"},
	{[]string{"quota exceeded"}, transient, "a quota, which another rollout ending may free"},
	{[]string{"triggered scale-up"}, transient, "the cluster autoscaler is adding a node"},
	{[]string{"i/o timeout"}, transient, "a timeout"},
	{[]string{"timeout"}, transient, "a timeout"},
	{[]string{"timed out"}, transient, "a timeout"},
	{[]string{"deadline exceeded"}, transient, "a timeout"},
	{[]string{"connection refused"}, transient, "a refused connection"},
	{[]string{"connection reset"}, transient, "a dropped connection"},
	{[]string{"500 internal server error"}, transient, "a registry error (5xx)"},
	{[]string{"502 bad gateway"}, transient, "a registry error (5xx)"},
	{[]string{"503 service unavailable"}, transient, "a registry error (5xx)"},
	{[]string{"504 gateway timeout"}, transient, "a registry error (5xx)"},
	{[]string{"failed to sync", "cache"}, transient, "the kubelet's Secret or ConfigMap cache is still syncing"},

	// Only a change clears these.
	{[]string{"didn't trigger scale-up"}, final, "the cluster autoscaler will not add a node for it"},
	{[]string{"manifest unknown"}, final, "the image tag or digest does not exist"},
	{[]string{"repository does not exist"}, final, "the image repository does not exist"},
	{[]string{"pull access denied"}, final, "no access to the image"},
	{[]string{"unauthorized"}, final, "no access to the image"},
	{[]string{"authorization failed"}, final, "no access to the image"},
	{[]string{"invalid reference format"}, final, "the image name is not valid"},
	{[]string{"no such host"}, final, "the registry's host name does not resolve"},
	{[]string{"violates podsecurity"}, final, "a PodSecurity admission denial"},
	{[]string{"admission webhook", "denied"}, final, "an admission webhook denial"},
	{[]string{"usage per container"}, final, "a LimitRange denial"},
	{[]string{"usage per pod"}, final, "a LimitRange denial"},
	{[]string{"limit to request ratio"}, final, "a LimitRange denial"},
	// The StorageClass row first: the watch's words for a claim whose class does not exist name
	// the claim too (claims.go). A claim that does not exist is named in quotes: the v1.34
	// scheduler ends "pod has unbound immediate PersistentVolumeClaims" with " not found" too,
	// for a claim that is only waiting for its volume.
	{[]string{"storageclass", "not found"}, final, "the StorageClass does not exist"},
	{[]string{`persistentvolumeclaim "`, `" not found`}, final, "the PersistentVolumeClaim does not exist"},
	{[]string{"denied"}, final, "access denied"},
	// A pull of an image that does not exist. Not every "not found": a ServiceAccount or Secret
	// applied a moment later clears its own, which the grace is for.
	{[]string{"code = notfound"}, final, "the image does not exist"},
	{[]string{"failed to resolve reference", "not found"}, final, "the image does not exist"},
	{[]string{"manifest", "not found"}, final, "the image does not exist"},
}

// classifyMessage says whether waiting can clear the error the message describes, and why.
func classifyMessage(msg string) (finality, string) {
	m := strings.ToLower(msg)
	for _, r := range finalityTable {
		if containsAll(m, r.match) {
			return r.is, r.why
		}
	}
	return undecided, ""
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// The cluster autoscaler's events on a pod it considered for a scale-up. Both are type Normal, so
// the watch reads them through a selector of their own (autoscalerPodEvents), not the Warnings'
// (their reasons: podstate.EventTriggeredScaleUp and EventNotTriggerScaleUp).
const (
	// autoscalerPodEvents selects them: the autoscaler records under source component
	// "cluster-autoscaler" (the API server also matches an events.k8s.io reportingController).
	autoscalerPodEvents = "involvedObject.kind=Pod,source=cluster-autoscaler"
)

// scaleUpWait is how long an unschedulable pod may wait from the autoscaler's latest
// TriggeredScaleUp: a new node on the big clouds is Ready in one to four minutes, and an
// autoscaler that gives up (its own limit is --max-node-provision-time, 15 minutes by default)
// says NotTriggerScaleUp, which ends the wait sooner. --timeout still bounds it.
const scaleUpWait = 5 * time.Minute

// scaleUp is what the cluster autoscaler last said about a pod.
type scaleUp struct {
	final   bool      // it will not add a node (NotTriggerScaleUp)
	until   time.Time // it is adding one: the pod may wait until then (zero when it said nothing)
	message string
}

// scaleUpOf reads the newest of the autoscaler's events on pod: the autoscaler repeats its
// verdict every loop, and a scale-up that began after a refusal (a node group out of its back-off)
// replaces it. A repeat folded into one event counts at its last time (podstate.EventLast).
func scaleUpOf(pod *corev1.Pod, events []*corev1.Event) scaleUp {
	var last *corev1.Event
	for _, e := range events {
		if e.InvolvedObject.UID != pod.UID || (e.Reason != podstate.EventTriggeredScaleUp && e.Reason != podstate.EventNotTriggerScaleUp) {
			continue
		}
		if last == nil || podstate.EventLast(e).After(podstate.EventLast(last)) {
			last = e
		}
	}
	switch {
	case last == nil:
		return scaleUp{}
	case last.Reason == podstate.EventNotTriggerScaleUp:
		return scaleUp{final: true, message: last.Message}
	}
	return scaleUp{until: podstate.EventLast(last).Add(scaleUpWait), message: last.Message}
}
