// Package version is what hsds-autoscaler and hsds-agent say about their build: the release
// version and the source revision that `make build` and `make images` stamp in with -ldflags -X
// (from the file VERSION and `git describe --always --dirty`), the Go version, and a
// <binary>_build_info gauge with the same facts for /metrics.
//
// An unstamped build (`go build`, `go run`, `go test`) says version "dev"; its revision is the
// vcs.revision that the go command embeds when it builds inside a git work tree, else "unknown".
package version
