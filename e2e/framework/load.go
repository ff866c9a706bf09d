package framework

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// LoadCPU keeps the machine's cores busy until the test ends: perCore busy-looping shell processes
// per core, competing with the kubelet, the API server, containerd and the gate as a CI runner's
// neighbours do. Probe timings, restarts and status updates then arrive late, which is what the
// gate's time rules must survive. The processes die with the test binary (parent-death signal) and
// are killed at cleanup.
func LoadCPU(t testing.TB, perCore int) {
	t.Helper()
	n := perCore * runtime.NumCPU()
	var procs []*exec.Cmd
	for range n {
		cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start CPU load: %v", err)
		}
		procs = append(procs, cmd)
	}
	t.Logf("CPU load: %d busy processes on %d cores", n, runtime.NumCPU())
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	})
}
