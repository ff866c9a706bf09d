// Package contract holds, in its tests only, the promises that span files no single package owns:
// action.yml's inputs are the CLI's flags with the same defaults, its outputs are the ones the
// GitHub publisher writes, the README's tables are action.yml's, the Dockerfile builds the gate as
// a root image, the host flavour's setup action, release.yml, hack/build-release.sh and the README
// name the same release assets, the copied kubectl files keep their licence header, and the
// packages keep their one-way imports (report and github never import Kubernetes; watch,
// diagnose and rollback never import github; only tests import githubtest).
package contract
