// Package controlplane starts a real, local Kubernetes control plane for end-to-end tests and the
// demo: etcd, kube-apiserver (with the aggregation layer configured) and kube-controller-manager,
// all bound to loopback on ports picked at run time. No kubelet runs; Kubelet plays its part by
// writing pod status. See docs/e2e.md.
package controlplane
