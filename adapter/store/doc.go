// Package store keeps, per HSDS pod, what Kubernetes says about the pod and a short ring of its
// agent's scrapes, and turns them into heuristics.PodSample figures. It does no I/O: discovery
// feeds it pods, a collector (agents or Prometheus) feeds it readings, and readers (the scaler,
// the custom-metrics provider) get figures computed at record time, so a read costs a copy.
package store
