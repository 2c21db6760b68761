// Package sim is a deterministic, discrete-time simulator of an HSDS cluster on Kubernetes: SN
// task gates, request fan-out, pod start-up, cluster-wide not-ready windows after every roster
// change, nodes with room for a few pods and a cluster autoscaler, and h5pyd clients that retry.
// It exports per pod the figures hsds-agent exports and implements the interfaces the scaler
// declares, so the real decision code runs against it on a simulated clock.
package sim
