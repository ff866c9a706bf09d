package target

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// FromKustomizations builds each folder given to -k with kustomize's own library, with the
// options `kubectl apply -k` uses (files only from inside the kustomization's tree, no plugins),
// and reads the objects it renders as -f reads a manifest. Each object is reported at the file
// kustomize read it from (a base's deploy.yaml, at its line), with the -k folder and the
// kustomization files whose patches and transformers changed it, so a broken overlay is traced
// to the overlay.
func FromKustomizations(dirs []string, defaultNamespace string) ([]Target, error) {
	var out []Target
	for _, dir := range dirs {
		ws, err := fromKustomization(dir, defaultNamespace)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

func fromKustomization(dir, defaultNamespace string) ([]Target, error) {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, fault.Invalidf("-k %q: %v; give the folder that holds kustomization.yaml", dir, errUnwrapPath(err))
	case !info.IsDir():
		return nil, fault.Invalidf("-k %q: not a folder; give the folder that holds kustomization.yaml, as to `kubectl apply -k`", dir)
	}
	root, err := kustomizationFile(dir)
	if err != nil {
		return nil, err
	}
	fsys := tracingFS{FileSystem: filesys.MakeFsOnDisk(), root: root}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fault.Invalidf("-k %s: kustomize could not build it: %v; `kubectl kustomize %s` shows the same error", dir, err, dir)
	}
	var out []Target
	lines := map[string][]Target{} // a source file's objects, read once
	for _, r := range m.Resources() {
		text, err := r.AsYAML()
		if err != nil {
			return nil, fault.Invalidf("-k %s: read the built %s %s: %v", dir, r.GetKind(), r.GetName(), err)
		}
		file, patched := origins(dir, r)
		ws, err := Parse(file, stripBuildAnnotations(text), defaultNamespace)
		if err != nil {
			return nil, err
		}
		line := lineIn(lines, file, r.GetKind(), r.GetName())
		for i := range ws {
			ws[i].Line = line
			ws[i].Kustomization = &KustomizeSource{Dir: dir, Patched: patched}
		}
		out = append(out, ws...)
	}
	return out, nil
}

// KustomizeSource says which -k folder built a workload and which kustomization files changed it
// on the way (patches, images, replicas), in the order kustomize applied them.
type KustomizeSource struct {
	Dir     string
	Patched []string
}

// kustomizationFile is the kustomization of dir, by the names kustomize looks for.
func kustomizationFile(dir string) (string, error) {
	for _, n := range kustomizationNames {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", fault.Invalidf("-k %q: %v", dir, err)
			}
			return abs, nil
		}
	}
	return "", fault.Invalidf("-k %q: the folder holds no kustomization.yaml; give the folder of one, or give plain manifests with -f", dir)
}

// tracingFS turns on kustomize's origin and transformer annotations for the build by adding them
// to the top kustomization's buildMetadata as it is read: they say which file each object came
// from and which kustomizations changed it. The user's files are not touched, and kubectl's
// own build (which the cluster got) differs from this one only by those annotations.
type tracingFS struct {
	filesys.FileSystem
	root string
}

func (f tracingFS) ReadFile(path string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if abs, aerr := filepath.Abs(path); aerr != nil || abs != f.root {
		return data, nil
	}
	var k map[string]any
	if yaml.Unmarshal(data, &k) != nil || k == nil {
		return data, nil // kustomize reports the error in its own words
	}
	meta, _ := k["buildMetadata"].([]any)
	for _, want := range []string{types.OriginAnnotations, types.TransformerAnnotations} {
		if !slices.Contains(meta, any(want)) {
			meta = append(meta, want)
		}
	}
	k["buildMetadata"] = meta
	return yaml.Marshal(k)
}

// origins is the file an object came from, relative to the working directory as the -k folder
// is, and the kustomization files whose transformers changed it.
func origins(dir string, r *resource.Resource) (file string, patched []string) {
	file = dir + " (built by kustomize)"
	if o, err := r.GetOrigin(); err == nil && o != nil && o.Repo == "" {
		switch {
		case o.Path != "":
			file = filepath.Join(dir, o.Path)
		case o.ConfiguredIn != "":
			file = filepath.Join(dir, o.ConfiguredIn)
		}
	}
	if ts, err := r.GetTransformations(); err == nil {
		for _, t := range ts {
			if t == nil || t.ConfiguredIn == "" || t.Repo != "" {
				continue
			}
			p := filepath.Join(dir, t.ConfiguredIn)
			if !slices.Contains(patched, p) {
				patched = append(patched, p)
			}
		}
	}
	return file, patched
}

// stripBuildAnnotations drops the annotations tracingFS asked for, so that the object reads as the
// one kubectl applied.
func stripBuildAnnotations(text []byte) []byte {
	var obj map[string]any
	if yaml.Unmarshal(text, &obj) != nil {
		return text
	}
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		return text
	}
	delete(ann, "config.kubernetes.io/origin")
	delete(ann, "alpha.config.kubernetes.io/transformations")
	if len(ann) == 0 {
		delete(md, "annotations")
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return text
	}
	return out
}

// lineIn is the line of the document in file that declared the built kind/name, or 0 when it
// cannot be found (a generated object, a file outside the tree). The build's name may carry a
// namePrefix or nameSuffix (kustomize drops its record of the original name at the end of the
// build): the document of that kind whose name the built name contains, the longest, is the one.
func lineIn(cache map[string][]Target, file, kind, name string) int {
	ws, ok := cache[file]
	if !ok {
		if data, err := os.ReadFile(file); err == nil {
			ws, _ = Parse(file, data, "")
		}
		cache[file] = ws
	}
	line, best := 0, -1
	for _, w := range ws {
		if w.Kind == kind && strings.Contains(name, w.Name) && len(w.Name) > best {
			line, best = w.Line, len(w.Name)
		}
	}
	return line
}

// String of a kustomize source for the report: the -k folder and what changed the object.
func (k KustomizeSource) String() string {
	s := "-k " + k.Dir
	if len(k.Patched) > 0 {
		s += fmt.Sprintf(", changed by %s", strings.Join(k.Patched, ", "))
	}
	return s
}
