//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"sync"
)

// rowLog collects the one-line results of parallel runs for a closing table, logged once they
// have all ended.
type rowLog struct {
	mu   sync.Mutex
	rows []string
}

func (r *rowLog) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, s)
}

// String is the rows sorted, one a line.
func (r *rowLog) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := slices.Clone(r.rows)
	slices.Sort(rows)
	return strings.Join(rows, "\n")
}
