package watch

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// changes is the change set the informers fill between two judgements: per namespace, the names
// of the workloads whose objects changed, or the whole namespace. The watch loop judges those
// workloads only, so that at thousands of pods a pod's update costs the judgement of its own
// workload, not of every workload.
type changes struct {
	mu   sync.Mutex
	set  changeSet
	poke chan struct{} // one pending wake-up for the watch loop
}

// changeSet maps a namespace to the names that changed in it; a nil set of names means all.
type changeSet map[string]map[string]bool

func newChanges() *changes {
	return &changes{set: changeSet{}, poke: make(chan struct{}, 1)}
}

// add records a changed object of namespace ns and wakes the loop; controllerOf names the
// workload that controls a history object (see affected).
func (c *changes) add(ns string, obj any, controllerOf func(*metav1.OwnerReference) string) {
	names, all := affected(obj, controllerOf)
	c.mu.Lock()
	switch cur, seen := c.set[ns]; {
	case all || (seen && cur == nil):
		c.set[ns] = nil
	default:
		if cur == nil {
			cur = map[string]bool{}
			c.set[ns] = cur
		}
		for _, n := range names {
			cur[n] = true
		}
	}
	c.mu.Unlock()
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// wake wakes the loop without naming a change: what the view heard (fresh.go) may let a
// workload waiting for it be judged.
func (c *changes) wake() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// take returns the changes so far and starts a new set.
func (c *changes) take() changeSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.set
	c.set = changeSet{}
	return set
}

// has reports whether the workload name of namespace ns may be judged differently now.
func (s changeSet) has(ns, name string) bool {
	names, ok := s[ns]
	return ok && (names == nil || names[name])
}

// affected names the workloads an object's change can concern: the object itself (a workload,
// or an object judged by its status), its controller (a ReplicaSet's Deployment, a pod's
// StatefulSet, DaemonSet or Job, a ControllerRevision's owner) and, for a pod of a history object,
// that object's controller as controllerOf reads it from the cache (a pod's ReplicaSet → its
// Deployment). A pod seen before its ReplicaSet is cached loses nothing: the ReplicaSet's own
// arrival names the Deployment. Over-naming costs one judgement; all is set when the object cannot
// be placed: a tombstone of a deletion missed, or a pod's event (the judge reads events by pod,
// which the event names without owner).
func affected(obj any, controllerOf func(*metav1.OwnerReference) string) (names []string, all bool) {
	if _, ok := obj.(*corev1.Event); ok {
		return nil, true
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, true
	}
	names = append(names, m.GetName())
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		names = append(names, ref.Name)
		if controllerOf != nil {
			if owner := controllerOf(ref); owner != "" {
				names = append(names, owner)
			}
		}
	}
	return names, false
}
