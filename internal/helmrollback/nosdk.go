//go:build !helmsdk

package helmrollback

import "k8s.io/client-go/rest"

const linked = false

// New returns nil: this binary was built without Helm's library (-tags helmsdk), and the caller
// refuses with the helm command instead.
func New(*rest.Config) Runner { return nil }
