package podstate

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ProbeKind is a probe as the kubelet's events name it.
type ProbeKind string

const (
	Liveness  ProbeKind = "Liveness"
	Readiness ProbeKind = "Readiness"
	Startup   ProbeKind = "Startup"
)

// ProbeKinds are the three kinds of probe.
var ProbeKinds = []ProbeKind{Liveness, Readiness, Startup}

// Lower is the kind as the spec's field names it: liveness (livenessProbe), readiness, startup.
func (k ProbeKind) Lower() string {
	switch k {
	case Liveness:
		return "liveness"
	case Readiness:
		return "readiness"
	case Startup:
		return "startup"
	}
	return string(k)
}

// ProbeOf returns the container's probe of kind k, or nil.
func ProbeOf(c *corev1.Container, k ProbeKind) *corev1.Probe {
	if c == nil {
		return nil
	}
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// The API server's defaults for a probe's fields. It always fills them in; a fake client's or a
// hand-written fixture's pod may leave them zero.
const (
	DefaultPeriod           = 10 * time.Second
	DefaultTimeout          = 1 * time.Second
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 1
)

// Probe is the timing of a probe, with the API server's default in place of each unset field.
type Probe struct {
	InitialDelay     time.Duration
	Period           time.Duration
	Timeout          time.Duration
	FailureThreshold int32
	SuccessThreshold int32
}

// WithDefaults reads a probe's timing, with the API server's defaults for unset fields. A nil
// probe reads as the defaults.
func WithDefaults(p *corev1.Probe) Probe {
	s := Probe{Period: DefaultPeriod, Timeout: DefaultTimeout, FailureThreshold: DefaultFailureThreshold, SuccessThreshold: DefaultSuccessThreshold}
	if p == nil {
		return s
	}
	if p.InitialDelaySeconds > 0 {
		s.InitialDelay = seconds(p.InitialDelaySeconds)
	}
	if p.PeriodSeconds > 0 {
		s.Period = seconds(p.PeriodSeconds)
	}
	if p.TimeoutSeconds > 0 {
		s.Timeout = seconds(p.TimeoutSeconds)
	}
	if p.FailureThreshold > 0 {
		s.FailureThreshold = p.FailureThreshold
	}
	if p.SuccessThreshold > 0 {
		s.SuccessThreshold = p.SuccessThreshold
	}
	return s
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// KillWindow is the kubelet's window for a probe that fails from its first run: the longest
// time, from the moment the probe begins to count (initialDelaySeconds after the container's
// start, and for a liveness probe not before the startup probe passed), until the kubelet has
// seen failureThreshold failures in a row and acts (kills the container for a liveness or
// startup probe; marks it not ready for a readiness probe).
//
// From the kubelet's prober worker (pkg/kubelet/prober/worker.go): the worker's ticker runs
// every periodSeconds from the worker's own start, not the container's, and a tick before the
// initial delay probes nothing, so the first probe comes up to one period after the probe
// begins to count; each probe runs synchronously for up to timeoutSeconds; the ticker keeps one
// tick while a probe runs and drops the rest, so probes follow each other every
// max(period, timeout); the failureThreshold-th failure is recorded when that probe returns:
//
//	period + (failureThreshold-1)·max(period, timeout) + timeout
//	  = failureThreshold·period + timeout          when timeout <= period (the usual case)
//	  = failureThreshold·timeout + period          when timeout > period
//
// This is the bound the kubelet guarantees, not the typical kill: a probe aligned with its
// ticker kills up to one period sooner. The watch's old formula, period·(threshold+1)+timeout,
// counted failureThreshold periods between failureThreshold probes and one more for the
// ticker's alignment, one period too many; the diagnosis's old one, initialDelay +
// threshold·period, left out the last probe's timeout, so it was not a bound. kubedog's
// readiness window counts the same parts: up to one period before the first probe, the
// threshold's probes a period apart, the last probe's timeout. How much longer the gate waits on
// a loaded node is the watch's margin, on top of this window.
func KillWindow(p *corev1.Probe) time.Duration { return WithDefaults(p).KillWindow() }

// KillWindow is the package function KillWindow on timing already read.
func (s Probe) KillWindow() time.Duration {
	long, short := s.Period, s.Timeout
	if short > long {
		long, short = short, long
	}
	return time.Duration(s.FailureThreshold)*long + short
}

// FromStart is the probe's KillWindow counted from the container's start: its initial delay,
// then the window.
func (s Probe) FromStart() time.Duration { return s.InitialDelay + s.KillWindow() }

// Explain says how FromStart adds up, in the spec's words:
// "initialDelaySeconds 5 + failureThreshold 3 × periodSeconds 3 + timeoutSeconds 1 = 15s".
func (s Probe) Explain() string {
	return fmt.Sprintf("initialDelaySeconds %d + %s = %s", int(s.InitialDelay.Seconds()), s.windowTerms(), s.FromStart())
}

// ExplainWindow says how KillWindow adds up, in the spec's words:
// "failureThreshold 3 × periodSeconds 10 + timeoutSeconds 1 = 31s".
func (s Probe) ExplainWindow() string {
	return fmt.Sprintf("%s = %s", s.windowTerms(), s.KillWindow())
}

// windowTerms are KillWindow's terms: the threshold times the longer of period and timeout, plus
// the shorter.
func (s Probe) windowTerms() string {
	long, short := "periodSeconds", "timeoutSeconds"
	lv, sv := s.Period, s.Timeout
	if sv > lv {
		long, short, lv, sv = short, long, sv, lv
	}
	return fmt.Sprintf("failureThreshold %d × %s %d + %s %d", s.FailureThreshold, long, int(lv.Seconds()), short, int(sv.Seconds()))
}

// SoonestKill is, from the container's start, the soonest the kubelet can act on a probe that
// fails from its first run: the first probe right at the initial delay, each failure answered
// at once, failureThreshold of them a period apart. A container still starting at that age may
// already have been killed by the probe; by FromStart it surely has.
func (s Probe) SoonestKill() time.Duration {
	return s.InitialDelay + time.Duration(s.FailureThreshold-1)*s.Period
}
