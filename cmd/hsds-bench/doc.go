// Command hsds-bench replays load traces through the simulated HSDS cluster for every policy (ours,
// the upstream HPA + prometheus-adapter and KEDA recipes, Knative's KPA, a clairvoyant oracle) and
// writes report.json, report.md and one PNG per trace. `make bench` runs it. Wiring only: bench/.
package main
