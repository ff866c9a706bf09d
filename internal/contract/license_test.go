package contract

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// upstreamHeader is the Kubernetes Authors' licence header, which the Apache License (section 4)
// requires every copied file to keep.
const upstreamHeader = `// Copyright 2016 The Kubernetes Authors.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
`

// TestKubectlCopyKeepsUpstreamHeaders: every Go file in internal/kubectlcopy starts with the
// upstream header and says where it was copied from, so the notice travels with the code.
func TestKubectlCopyKeepsUpstreamHeaders(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(root(t), "internal", "kubectlcopy")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	copied := regexp.MustCompile(`(?m)^// Copied from k8s\.io/kubectl v\d+\.\d+\.\d+ `)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if !strings.HasPrefix(string(b), upstreamHeader) {
			t.Errorf("internal/kubectlcopy/%s does not start with the Kubernetes Authors' Apache-2.0 header; put it back, word for word", name)
		}
		if !copied.Match(b) {
			t.Errorf("internal/kubectlcopy/%s does not say where it was copied from (a `// Copied from k8s.io/kubectl vX.Y.Z ...` line)", name)
		}
	}
}

// TestLicenseAndNotice: the repository carries the Apache-2.0 text, and NOTICE names the copied
// kubectl code.
func TestLicenseAndNotice(t *testing.T) {
	t.Parallel()
	lic := readFile(t, "LICENSE")
	for _, want := range []string{"Apache License\n                           Version 2.0, January 2004",
		"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "4. Redistribution.", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(lic, want) {
			t.Errorf("LICENSE lacks %q: it must be the full Apache-2.0 text", want)
		}
	}
	notice := readFile(t, "NOTICE")
	for _, want := range []string{"internal/kubectlcopy", "k8s.io/kubectl", "The Kubernetes Authors", "Apache License, Version 2.0"} {
		if !strings.Contains(notice, want) {
			t.Errorf("NOTICE does not mention %q", want)
		}
	}
}
