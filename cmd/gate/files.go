package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// writeReportFile writes a report to path without following a symbolic link at path: in Actions
// the workspace is the pull request's checkout, and a link planted there would have the gate (root
// in its container) write wherever it points. An existing regular file is truncated; anything
// else (a link, a FIFO, a device, a folder) is invalid input that names the path.
func writeReportFile(path string, data []byte) error {
	// O_NONBLOCK: opening a FIFO with no reader fails instead of hanging the job.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return fault.Invalidf("%s is a symbolic link; the gate does not write a report through a link, which could point at any file it may write: remove the link or give another path", path)
	}
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return fault.Invalidf("%s is not a regular file (%s); give the path of a file, or of one to create", path, fi.Mode().Type())
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fault.Invalidf("%s is not a regular file (%s); give the path of a file, or of one to create", path, fi.Mode().Type())
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return f.Close()
}
