//go:build !helmsdk

package helmrollback

import "testing"

// TestWithoutLibrary: a build without -tags helmsdk has no Helm rollback to run, so the caller
// (internal/rollback) refuses with the helm command rather than undo the release's resources.
func TestWithoutLibrary(t *testing.T) {
	if Linked || New(nil) != nil {
		t.Fatalf("Linked %v, New %v: want no Helm rollback without -tags helmsdk", Linked, New(nil) != nil)
	}
}
