//go:build helmsdk

package helmrollback

import (
	"context"
	"fmt"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const linked = true

// fieldManager is the server-side apply field manager the helm CLI applies as (cmd/helm sets
// kube.ManagedFieldsManager to it). Helm's library otherwise takes the binary's name ("gate"), and
// the API server then refuses the rollback's apply with a conflict with "helm" over every field
// the broken upgrade changed: the rollback must apply as the manager that owns the release's fields.
const fieldManager = "helm"

// New returns Helm's rollback over the gate's own connection (cfg: the kubeconfig or
// --kubeconfig-data as the gate loaded it, so Helm talks to the same cluster as the same user).
func New(cfg *rest.Config) Runner {
	kube.ManagedFieldsManager = fieldManager
	return func(ctx context.Context, req Request) error {
		ac := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
		if err := ac.Init(getter{cfg: cfg, namespace: req.Namespace}, req.Namespace, driverName(req.Driver)); err != nil {
			return fmt.Errorf("set up Helm's rollback of release %s -n %s: %w", req.Release, req.Namespace, err)
		}
		if kc, ok := ac.KubeClient.(*kube.Client); ok {
			kc.Namespace, kc.WaitContext = req.Namespace, ctx
		}
		return run(ac, req)
	}
}

// run is helm rollback RELEASE REVISION with helm's defaults (--wait=hookOnly, --server-side=auto,
// hooks run), Helm's logger silenced: its messages quote the release, which the gate does not print.
func run(ac *action.Configuration, req Request) error {
	if req.To <= 0 {
		return fmt.Errorf("helm rollback %s -n %s: no revision to roll back to", req.Release, req.Namespace)
	}
	rb := action.NewRollback(ac)
	rb.Version, rb.Timeout, rb.MaxHistory = req.To, req.Timeout, req.MaxHistory
	rb.WaitStrategy = kube.HookOnlyStrategy
	if err := rb.Run(req.Release); err != nil {
		return fmt.Errorf("helm rollback %s %d -n %s: %w", req.Release, req.To, req.Namespace, err)
	}
	return nil
}

// driverName maps helmrelease's driver names to Configuration.Init's.
func driverName(d string) string {
	if d == "configmaps" {
		return "configmap"
	}
	return "secret"
}

// getter hands Helm the gate's rest.Config as the genericclioptions.RESTClientGetter that
// Configuration.Init takes, with the release's namespace as the default one.
type getter struct {
	cfg       *rest.Config
	namespace string
}

var _ genericclioptions.RESTClientGetter = getter{}

func (g getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(g.cfg))
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g getter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

func (g getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(clientcmdapi.Config{}, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
