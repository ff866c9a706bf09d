package diagnose

import (
	"fmt"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// changeFor returns the change at path, if this rollout made one.
func changeFor(changes []report.Change, path string) (report.Change, bool) {
	for _, c := range changes {
		if c.Path == path {
			return c, true
		}
	}
	return report.Change{}, false
}

// describeChange says in words what a change did: `DATABASE_PORT changed from "5432" to "abc" in this rollout`.
func describeChange(subject string, c report.Change) string {
	switch {
	case c.Before == "":
		return fmt.Sprintf("%s was added in this rollout (%s)", subject, c.After)
	case c.After == "":
		return fmt.Sprintf("%s was removed in this rollout (it was %s)", subject, c.Before)
	}
	return fmt.Sprintf("%s changed from %s to %s in this rollout", subject, c.Before, c.After)
}
