// Command kindcluster is the Docker path of `make cluster-up` / `make cluster-down`: where a
// Docker engine works (a laptop, a GitHub runner) it creates a kind cluster through the
// sigs.k8s.io/kind Go API instead of starting local daemons, with the same contract: progress on
// stderr, and the kubeconfig path as the last line of stdout.
//
// Usage:
//
//	kindcluster up   -kubeconfig PATH [-name rollout-gate] [-image kindest/node:...] [-load IMAGE.tar]...
//	kindcluster down -kubeconfig PATH [-name rollout-gate]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "kindcluster: %v\n", err)
		os.Exit(1)
	}
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "down") {
		return errors.New("want a subcommand: up or down")
	}
	fs := flag.NewFlagSet("kindcluster "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "rollout-gate", "kind cluster name")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file to write (required)")
	image := fs.String("image", "", "node image (default: the one this kind version was released with)")
	var load stringList
	fs.Var(&load, "load", "image archive to load into every node (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *kubeconfig == "" {
		return errors.New("-kubeconfig is required")
	}
	path, err := filepath.Abs(*kubeconfig)
	if err != nil {
		return fmt.Errorf("resolve -kubeconfig: %w", err)
	}
	p := cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(kindcmd.NewLogger()))
	existing, err := p.List()
	if err != nil {
		return fmt.Errorf("list kind clusters: %w", err)
	}
	exists := slices.Contains(existing, *name)

	if args[0] == "down" {
		if !exists {
			fmt.Fprintf(stderr, "kind cluster %q does not exist\n", *name)
			return nil
		}
		if err := p.Delete(*name, path); err != nil {
			return fmt.Errorf("delete kind cluster %q: %w", *name, err)
		}
		return nil
	}

	if exists {
		fmt.Fprintf(stderr, "kind cluster %q exists; writing its kubeconfig\n", *name)
		if err := p.ExportKubeConfig(*name, path, false); err != nil {
			return fmt.Errorf("export kubeconfig of kind cluster %q: %w", *name, err)
		}
	} else {
		opts := []cluster.CreateOption{
			cluster.CreateWithKubeconfigPath(path),
			cluster.CreateWithWaitForReady(3 * time.Minute),
			cluster.CreateWithDisplayUsage(false),
			cluster.CreateWithDisplaySalutation(false),
		}
		if *image != "" {
			opts = append(opts, cluster.CreateWithNodeImage(*image))
		}
		if err := p.Create(*name, opts...); err != nil {
			return fmt.Errorf("create kind cluster %q (see `docker ps -a` and `kind export logs --name %s`): %w", *name, *name, err)
		}
	}
	if err := loadArchives(p, *name, load, stderr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// loadArchives imports each image archive into every node, as `kind load image-archive` does.
func loadArchives(p *cluster.Provider, name string, archives []string, stderr io.Writer) error {
	if len(archives) == 0 {
		return nil
	}
	nodes, err := p.ListInternalNodes(name)
	if err != nil {
		return fmt.Errorf("list nodes of kind cluster %q: %w", name, err)
	}
	for _, a := range archives {
		for _, n := range nodes {
			fmt.Fprintf(stderr, "loading %s into %s\n", filepath.Base(a), n.String())
			f, err := os.Open(a)
			if err != nil {
				return fmt.Errorf("load image: %w", err)
			}
			err = nodeutils.LoadImageArchive(n, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("load %s into node %s: %w", a, n.String(), err)
			}
		}
	}
	return nil
}
