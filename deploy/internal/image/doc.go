// Package image builds the project's container images without a daemon or a registry: each is
// one static Go binary (CGO_ENABLED=0, -trimpath, no build ID, version and revision stamped with
// -ldflags -X) in one layer on an empty base, run as the non-root user 65532, with no shell, and
// written as an OCI image layout in a tar file that `podman load -i`, `skopeo copy oci-archive:`
// and `crane push` read. Every timestamp is the given creation time, so the same sources, Go
// version and inputs give the same digests. `make images` runs it (go run ./deploy/images).
package image
