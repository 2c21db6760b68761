// Package adapter wires discovery, collection (agents or Prometheus), the store and the
// custom-metrics provider. cmd/hsds-autoscaler calls it: New/Start for the collection side (the
// scaler reads Adapter.Store), and Run to serve custom.metrics.k8s.io as well.
package adapter
