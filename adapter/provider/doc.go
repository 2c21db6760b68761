// Package provider serves the store's figures through the custom.metrics.k8s.io API
// (sigs.k8s.io/custom-metrics-apiserver). It answers only from the in-memory store: no request
// ever reaches an agent, Prometheus or the Kubernetes API.
package provider
