package diagnose

import (
	"fmt"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// signalNames are the Linux signal numbers a container can die of (exit code 128+n).
var signalNames = map[int32]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// ExitCodeMeaning explains a container exit code in words, using the termination reason
// (OOMKilled, Completed, Error, ContainerCannotRun, StartError) where it changes the meaning:
// 137 is the OOM killer only when the kubelet says OOMKilled; otherwise it is a SIGKILL from
// outside, typically after a failed liveness probe the app did not answer within the grace period.
func ExitCodeMeaning(code int32, reason string) string {
	if reason == podstate.ReasonOOMKilled {
		if code == 137 || code == 0 {
			return "SIGKILL by the kernel OOM killer: the container used more memory than its limit"
		}
		return fmt.Sprintf("exit %d after the OOM killer killed a process in the container: it used more memory than its limit", code)
	}
	switch reason {
	case podstate.ReasonContainerCannotRun, podstate.ReasonStartError:
		return fmt.Sprintf("the runtime could not start the process (exit %d): the entrypoint is missing, not executable or fails before it runs; see the termination message", code)
	case podstate.ReasonDeadlineExceeded:
		return "the pod's activeDeadlineSeconds passed and the kubelet stopped it"
	}
	switch code {
	case 0:
		return "exited normally (code 0): the main process finished by itself, or shut down cleanly after a SIGTERM (for example a liveness kill); a Deployment restarts it either way"
	case 1:
		return "general application error: the app returned an error and exited (its log says why)"
	case 2:
		return "misuse or usage error (bad flag or argument); Go programs also exit 2 on panic"
	case 126:
		return "command found but not executable: permission denied or not a binary for this platform"
	case 127:
		return "command not found: the entrypoint, or a program it runs, does not exist in the image or on $PATH"
	case 128:
		return "invalid exit argument, or the runtime could not start the container"
	case 255:
		return "exit status 255 (often exit(-1)): the entrypoint failed, or an exit code out of range"
	}
	if code > 128 && code < 128+32 {
		n := code - 128
		name := signalNames[n]
		switch n {
		case 9:
			return "SIGKILL (128+9): killed from outside the app, not OOMKilled: after a failed liveness or startup probe when the app did not stop within the grace period, or on pod deletion"
		case 15:
			return "SIGTERM (128+15) not handled: the kubelet asked the app to stop (liveness or startup probe failure, pod deletion) and it died of the signal instead of shutting down cleanly"
		case 11:
			return "SIGSEGV (128+11): segmentation fault, an invalid memory access in native code, a bad library or the wrong CPU architecture"
		case 6:
			return "SIGABRT (128+6): the process aborted itself (failed assertion, uncaught C++ exception, runtime abort)"
		case 2:
			return "SIGINT (128+2): interrupted"
		case 13:
			return "SIGPIPE (128+13): wrote to a closed pipe or socket"
		}
		return fmt.Sprintf("killed by signal %s (128+%d)", name, n)
	}
	if code < 0 {
		return fmt.Sprintf("exit %d: the runtime reported a negative code; the process never ran normally", code)
	}
	return fmt.Sprintf("exit %d: an application-defined error code", code)
}

// signalOf returns the signal number encoded in an exit code, or 0.
func signalOf(code int32) int32 {
	if code > 128 && code < 128+32 {
		return code - 128
	}
	return 0
}
