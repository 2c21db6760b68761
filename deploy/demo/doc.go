// Command demo is `make demo`: the main job of hsds-autoscaler on this one machine, watched the
// way an operator would. It starts a local control plane, an hsds Deployment whose pods a fake
// node runs (fake HSDS + real hsds-agent per pod), `hsds-autoscaler serve` (adapter and scaler)
// registered as custom.metrics.k8s.io, and Prometheus when installed; replays a time-compressed
// slice of a real trace with h5pyd's retry policy; shows a live view; writes a summary and a plot;
// and cleans everything up on exit, failure or Ctrl-C. See docs/demo.md.
package main
