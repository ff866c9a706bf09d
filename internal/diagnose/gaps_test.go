package diagnose

import (
	"context"
	"errors"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

// Gaps come from concurrent reads; a report must say them in the same order on every run.
func TestGapsAreSorted(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "missing-secret")
	d, cs, _ := fx.diagnoser(nil)
	refuse := func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcdserver: request timed out")
	}
	cs.PrependReactor("list", "events", refuse)
	cs.PrependReactor("list", "replicasets", refuse)
	ev, err := d.gather(context.Background(), fx.input("CreateContainerConfigError"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Gaps) < 3 {
		t.Fatalf("want a gap per refused read, got %q", ev.Gaps)
	}
	if !slices.IsSorted(ev.Gaps) {
		t.Errorf("gaps are not sorted:\n%q", ev.Gaps)
	}
}
