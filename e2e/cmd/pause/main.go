// Command pause is the pod sandbox image of the local e2e cluster: containerd needs a sandbox
// image it can never pull here, and any static binary that blocks until it is told to stop will do.
// Pods do not share a PID namespace by default, so it has no zombies to reap.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// As PID 1 the process only gets signals it has a handler for, so install one.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}
