// Package podstate is what the kubelet says about pods, read one way: the waiting and terminated
// reasons and what each means for a rollout, crash and restart accounting, an OOM kill followed
// by a plain SIGKILL, when an event happened and which container it names, pod conditions, and
// probe settings with the API server's defaults and the one window in which a failing probe
// makes the kubelet act.
//
// The watch judges a rollout with these facts and the diagnosis explains the verdict with them,
// so the two cannot disagree on a reason, a count or a window. It holds facts, not policy: how
// long the gate waits beyond the kubelet's own windows (a margin for a loaded node, a grace) is
// the watch's business. It imports nothing of this module.
package podstate
