// Package scaler runs the control loop that keeps one HSDS workload sized to its load: per target
// it reads the scale subresource and the pods' figures, asks a heuristics.Recommender, applies the
// guards (guards.go) and writes spec.replicas through the scale subresource, or only logs what it
// would do in dry-run.
//
// The package holds no Kubernetes client: it declares the small interfaces below and the
// sub-package scaler/kube implements them with client-go. The bench simulator implements the same
// interfaces on a simulated clock and drives Controller.Step directly.
package scaler
