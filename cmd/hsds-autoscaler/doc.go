// Command hsds-autoscaler keeps an HSDS Deployment sized to its load.
//
//	hsds-autoscaler serve    custom.metrics.k8s.io adapter + scaler (leader-elected)
//	hsds-autoscaler dry-run  what a policy would do: on a trace (--trace) or a live cluster (--live)
//	hsds-autoscaler version
//
// Wiring only: every piece lives in adapter/, scaler/, heuristics/ and bench/.
package main
