package kubetest

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// Client is a fake clientset holding objs, served as the gate's client; tests that add reactors
// build the fake themselves and Wrap it.
func Client(objs ...runtime.Object) client.Interface { return Wrap(fake.NewClientset(objs...)) }

// Discovery is a fake discovery client that lists these API resources: the one client-go's fake
// clientset carries.
func Discovery(resources ...*metav1.APIResourceList) *fakediscovery.FakeDiscovery {
	d := fake.NewClientset().Discovery().(*fakediscovery.FakeDiscovery)
	d.Resources = resources
	return d
}
