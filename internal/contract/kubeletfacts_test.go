package contract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// probeTimingFields are corev1.Probe's timing fields in seconds: read without
// podstate.WithDefaults, a zero field needs its default again, and any window is worked out once
// more. (The thresholds share their names with podstate.Probe's fields, so they are not listed;
// no window can be worked out without a period.)
var probeTimingFields = map[string]bool{"InitialDelaySeconds": true, "PeriodSeconds": true, "TimeoutSeconds": true}

// TestKubeletFactsLiveInPodstate fails when the watch or the diagnosis keeps its own copy of a
// kubelet fact that internal/workload/podstate has: a string literal that is the value of one of
// podstate's constants (a reason such as "CrashLoopBackOff", an event reason such as "Unhealthy",
// a probe kind, a verdict reason the two share), a read of a probe's timing fields (defaults and
// windows are podstate's), or a function of Kubernetes types named as one of podstate's. The
// verdict and the diagnosis then read one set of facts and cannot disagree on a reason or a
// window.
func TestKubeletFactsLiveInPodstate(t *testing.T) {
	t.Parallel()
	dir := root(t)
	consts, funcs := podstateNames(t, filepath.Join(dir, "internal", "workload", "podstate"))
	if len(consts) < 20 || !slicesHas(consts, "CrashLoopBackOff") || funcs["killwindow"] == "" {
		t.Fatalf("podstate's constants and functions were not read: %d constants, functions %v", len(consts), funcs)
	}
	literal := map[string]bool{}
	for _, v := range consts {
		literal[v] = true
	}
	var found []string
	for _, pkg := range []string{"internal/watch", "internal/diagnose"} {
		files, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pkg), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			where := func(n ast.Node) string {
				p := fset.Position(n.Pos())
				return pkg + "/" + filepath.Base(p.Filename) + ":" + strconv.Itoa(p.Line)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind != token.STRING {
						break
					}
					if v, err := strconv.Unquote(n.Value); err == nil && literal[v] {
						found = append(found, where(n)+": the literal "+n.Value+" is a podstate constant; use it")
					}
				case *ast.SelectorExpr:
					if probeTimingFields[n.Sel.Name] {
						found = append(found, where(n)+": reads the probe's "+n.Sel.Name+"; read its timing with podstate.WithDefaults")
					}
				case *ast.FuncDecl:
					// Only a function of Kubernetes types: a finding writer named after its
					// cause (oomKilled) takes the diagnosis's own context.
					if name, ok := funcs[strings.ToLower(n.Name.Name)]; ok && takesCoreV1(n) {
						found = append(found, where(n)+": func "+n.Name.Name+" copies podstate."+name)
					}
				}
				return true
			})
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.Error(f)
	}
}

// podstateNames reads podstate's non-test files: the values of its string constants, and its
// exported functions and methods by lower-cased name.
func podstateNames(t *testing.T, dir string) (consts []string, funcs map[string]string) {
	t.Helper()
	funcs = map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, spec := range d.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, err := strconv.Unquote(lit.Value)
							if err != nil {
								t.Fatal(err)
							}
							consts = append(consts, s)
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.IsExported() {
					funcs[strings.ToLower(d.Name.Name)] = d.Name.Name
				}
			}
		}
	}
	return consts, funcs
}

// takesCoreV1 reports whether a function has a parameter of a k8s.io/api/core/v1 type.
func takesCoreV1(fn *ast.FuncDecl) bool {
	for _, p := range fn.Type.Params.List {
		typ := p.Type
		if star, ok := typ.(*ast.StarExpr); ok {
			typ = star.X
		}
		if sel, ok := typ.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "corev1" {
				return true
			}
		}
	}
	return false
}

func slicesHas(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
