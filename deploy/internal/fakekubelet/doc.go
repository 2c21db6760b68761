// Package fakekubelet is a fake node for a real (local) control plane: it plays kubelet for the
// HSDS pods of one namespace. For each new pod that fits its pod slots it starts, in this
// process, a fake HSDS pod (agent/fakehsds) and a real hsds-agent (package agent) on a distinct
// loopback address (127.0.0.x), then marks the pod Running and Ready with that podIP. A pod that
// does not fit stays Pending with PodScheduled=False, reason Unschedulable, until a slot frees or
// the simulated cluster autoscaler adds slots. Deleting the pod stops its fake HSDS and agent.
//
// In real mode (Config.Mode ModeReal, root only) each pod is real HSDS 0.9.4 in Kubernetes mode
// and the hsds-agent binary in a network namespace of its own on a bridge the Kubelet makes; the
// API server is forwarded to the bridge address, port 443 (kubernetes.default.svc for the pods),
// readiness follows the SN's node state, and a finalizer holds a deleted pod until its processes
// stopped. Everything it makes is removed at Stop, and a killed run's leftovers at the next Start.
//
// The end-to-end tests (deploy/e2e) and the local demo (deploy/demo) use it; see
// docs/e2e.md.
package fakekubelet
