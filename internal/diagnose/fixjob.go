package diagnose

import (
	"strings"
)

// A Job's pod template cannot be changed in place (the API server refuses it), and `kubectl
// rollout` does not know Jobs. So for a workload that runs to completion the fix commands that
// would change the workload are said as changes to make in its manifest, and "watch it again"
// is: delete the Job, apply the fixed manifest, wait for it to complete.

// inManifest says a change to a Job's pod template as a note: "# in the Job's manifest, set env
// 'PORT=<value>' in container migrate; then re-create the Job".
func inManifest(format string, values ...string) string {
	return note("in the Job's manifest, "+format+"; then re-create the Job (its pod template cannot change in place)", values...)
}

// jobRerun re-creates the Job: delete it, then apply its fixed manifest.
func (ev *evidence) jobRerun() []string {
	return []string{command("kubectl", "delete", ev.target(), ev.ns()), note("then apply the Job's fixed manifest again")}
}

// jobWait waits for the re-created Job to complete: what `kubectl rollout status` is to a rollout.
func (ev *evidence) jobWait() []string {
	return []string{command("kubectl", "wait", "--for=condition=complete", ev.target(), ev.ns(), "--timeout=5m")}
}

func (ev *evidence) jobSetResources(container string, flags []string) string {
	return inManifest("set the resources of container %s: %s", container, strings.Join(flags, " "))
}

// cmdPatch applies a strategic merge patch to the workload; for a Job, a change to its manifest.
func (ev *evidence) cmdPatch(patch string) string {
	if ev.completes {
		return inManifest("make this change: %s", patch)
	}
	return command("kubectl", "patch", ev.target(), ev.ns(), "-p", patch)
}
