//go:build e2e

// Package e2e runs the end-to-end scenarios against one real local control plane (etcd,
// kube-apiserver, kube-controller-manager) started by deploy/internal/controlplane. Run with
// `go test -tags e2e ./deploy/e2e/`; see docs/e2e.md.
package e2e
