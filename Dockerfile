# The rollout-gate container action (action.yml) and the image release.yml publishes.
#
# Container actions run as root: the runner mounts /github/file_commands and /github/workspace
# owned by the runner user and sets --workdir itself, so the final image has no USER (a non-root
# user cannot append to GITHUB_OUTPUT) and no WORKDIR. distroless/static is the root variant (not
# :nonroot) and carries the CA certificates the GitHub and Kubernetes API calls need.
#
# Both bases are pinned by digest; the tag beside each is what the digest was taken from
# (golang:1.26 = 1.26.5 at the time, a multi-arch index).

FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
# Modules first, so a source change does not download them again.
COPY go.mod go.sum /src/
RUN go mod download -C /src
COPY cmd /src/cmd
COPY internal /src/internal
# release.yml passes the version and commit (a build context has no .git for Go to stamp);
# `gate version` and the reports show them. Empty: "devel".
ARG VERSION= REVISION=
# GO_TAGS=helmsdk links Helm's library, so --helm-release --rollback rolls back as `helm rollback`
# does (a new revision in `helm history`); it adds about 16.5 MB. Without it that rollback is refused
# with the exact `helm rollback` command to run.
ARG GO_TAGS=
RUN go build -C /src -trimpath -tags "${GO_TAGS}" -ldflags "-s -w \
      -X github.com/rollout-gate/rollout-gate/internal/version.version=${VERSION} \
      -X github.com/rollout-gate/rollout-gate/internal/version.revision=${REVISION}" \
    -o /out/gate ./cmd/gate

FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2
COPY --from=build /out/gate /gate
# The Apache License asks for its text and the NOTICE to travel with the binary.
COPY LICENSE NOTICE /
ENTRYPOINT ["/gate"]
