// Package bench replays request-rate traces through a simulated HSDS cluster (bench/sim) and
// compares scaling policies side by side: ours ("hsds", through the real scaler.Controller and
// its guards), the upstream recipes (HPA + prometheus-adapter, KEDA), Knative's KPA, and a
// clairvoyant oracle. It writes report.json, report.md and one PNG per trace (bench/report).
//
// Entry points: Run (make bench) and DryRunTrace (hsds-autoscaler dry-run --trace).
package bench
