// Command hsds-bench replays load traces through the simulated HSDS cluster for every policy (ours,
// the upstream HPA + prometheus-adapter and KEDA recipes, Knative's KPA) and the offline frontier,
// once per seed, and writes report.json, report.md and two PNGs per trace. `make bench` runs it. Wiring only: bench/.
package main
