package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// tool is one of the four programs the bench runs on every scenario, with its defaults and the
// bench's timeout.
type tool struct {
	name    string // column header
	bin     string
	version string
	// applies: the tool applies the manifest itself (Helm installs its chart), so its clock starts
	// when it starts; for the others the bench creates the Deployment and starts them at once.
	applies bool
	// args is the command line for the Deployment in namespace ns (chart: the chart's folder).
	args func(kubeconfig, ns, chart string, timeout time.Duration) []string
	// verdict reads the tool's exit and output. It returns a word from a fixed vocabulary, plus
	// at most a known reason or cause id: nothing the cluster wrote reaches the table as is.
	verdict func(exit int, stdout, stderr []byte, atTimeout bool) string
}

// Verdict words of the table.
const (
	verdictReady   = "ready"
	verdictFailed  = "failed"
	verdictTimeout = "timeout"
	verdictNoExit  = "no exit"
)

func gateTool(bin, version string) tool {
	return tool{name: "rollout-gate", bin: bin, version: version,
		args: func(kubeconfig, ns, _ string, timeout time.Duration) []string {
			return []string{"--kubeconfig", kubeconfig, "-n", ns, "--workload", "deployment/" + deploymentName, "--timeout", timeout.String(), "-o", "json"}
		},
		verdict: gateVerdict,
	}
}

func kubedogTool(bin, version string) tool {
	return tool{name: "kubedog", bin: bin, version: version,
		args: func(kubeconfig, ns, _ string, timeout time.Duration) []string {
			return []string{"--kube-config", kubeconfig, "-n", ns, "-t", strconv.Itoa(int(timeout.Seconds())), "rollout", "track", "deployment", deploymentName}
		},
		verdict: func(exit int, stdout, stderr []byte, atTimeout bool) string {
			return peerVerdict(exit, atTimeout, stderr, stdout)
		},
	}
}

func helmTool(bin, version string) tool {
	return tool{name: "Helm", bin: bin, version: version, applies: true,
		args: func(kubeconfig, ns, chart string, timeout time.Duration) []string {
			return []string{"upgrade", "--install", deploymentName, chart, "--kubeconfig", kubeconfig, "-n", ns, "--wait", "--timeout", timeout.String()}
		},
		verdict: func(exit int, stdout, stderr []byte, atTimeout bool) string {
			return peerVerdict(exit, atTimeout, stderr, stdout)
		},
	}
}

func kubectlTool(bin, version string) tool {
	return tool{name: "kubectl", bin: bin, version: version,
		args: func(kubeconfig, ns, _ string, timeout time.Duration) []string {
			return []string{"--kubeconfig", kubeconfig, "-n", ns, "rollout", "status", "deployment/" + deploymentName, "--timeout", timeout.String()}
		},
		verdict: func(exit int, stdout, stderr []byte, atTimeout bool) string {
			return peerVerdict(exit, atTimeout, stderr, stdout)
		},
	}
}

// token is what a reason may look like to reach the table: a short word, no Markdown, no spaces.
var token = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:._-]{0,39}$`)

// gateVerdict reads the gate's JSON report: its verdict and the first failing workload's cause
// (or reason when there is no finding).
func gateVerdict(exit int, stdout, _ []byte, atTimeout bool) string {
	var r report.Report
	if err := json.Unmarshal(stdout, &r); err != nil || r.Verdict == "" {
		return peerVerdict(exit, atTimeout)
	}
	v := string(r.Verdict)
	if r.Verdict == report.VerdictHealthy {
		v = verdictReady
	}
	for _, w := range r.Workloads {
		if w.Verdict != report.VerdictFailed && w.Verdict != report.VerdictTimeout {
			continue
		}
		why := w.Reason
		if len(w.Findings) > 0 && w.Findings[0].Cause != "" {
			why = string(w.Findings[0].Cause)
		}
		if token.MatchString(why) {
			v += ": " + why
		}
		break
	}
	return v
}

// knownReasons are the words the peers print for what they saw, matched in their output so the
// table can say why a peer failed without quoting it.
var knownReasons = []string{
	"ProgressDeadlineExceeded", "Init:CrashLoopBackOff", "CrashLoopBackOff", "CreateContainerConfigError",
	"ErrImageNeverPull", "ImagePullBackOff", "ErrImagePull", "OOMKilled", "Unschedulable", "FailedScheduling",
	"FailedMount", "Readiness probe failed", "Liveness probe failed",
}

// peerVerdict classifies a peer's exit: ready on 0; timeout when it exited non-zero at the
// timeout (its own words for that differ, and probe messages say "timeout" too, so the clock
// decides); failed otherwise, with the first known reason in the first of its outputs that has
// one: stderr before stdout, since the peers end with their error there and stream events, such
// as a passing FailedMount of a busy node, on stdout.
func peerVerdict(exit int, atTimeout bool, out ...[]byte) string {
	switch {
	case exit < 0:
		return verdictNoExit
	case exit == 0:
		return verdictReady
	case atTimeout:
		return verdictTimeout
	}
	for _, text := range out {
		v, at := verdictFailed, -1
		for _, r := range knownReasons {
			if i := strings.Index(string(text), r); i >= 0 && (at < 0 || i < at) {
				v, at = verdictFailed+": "+strings.ReplaceAll(r, " ", "-"), i
			}
		}
		if at >= 0 {
			return v
		}
	}
	return verdictFailed
}

// outcome is one tool's run on one scenario.
type outcome struct {
	exit    int // -1: no exit within the bench's limit, killed
	verdict string
	elapsed time.Duration // from apply to exit
}

// result says whether an outcome is the right answer for the scenario.
func (o outcome) result(healthy bool) string {
	switch {
	case o.exit < 0:
		return "no verdict"
	case healthy && o.exit != 0:
		return "false alarm"
	case !healthy && o.exit == 0:
		return "false pass"
	}
	return "right"
}

// moduleVersion is the version of module mod that binary bin was built from (its build info).
func moduleVersion(bin, mod string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	if info.Main.Path == mod && info.Main.Version != "" {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == mod {
			return d.Version
		}
	}
	return "unknown"
}

// gateVersion is the commit the gate binary was built from, "-dirty" when the tree had changes.
func gateVersion(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		// Built without VCS stamps (GOFLAGS=-buildvcs=false): the bench built it from this tree.
		out, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=12").Output()
		if d := strings.TrimSpace(string(out)); err == nil && token.MatchString(d) {
			return "commit " + d
		}
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "commit " + rev
}

// kubectlVersion asks kubectl for its client version.
func kubectlVersion(bin string) string {
	out, err := exec.Command(bin, "version", "--client", "-o", "json").Output()
	if err != nil {
		return "unknown"
	}
	var v struct {
		ClientVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if json.Unmarshal(bytes.TrimSpace(out), &v) != nil || v.ClientVersion.GitVersion == "" {
		return "unknown"
	}
	return v.ClientVersion.GitVersion
}

func (t tool) String() string { return fmt.Sprintf("%s %s", t.name, t.version) }
