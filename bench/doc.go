// Package bench replays request-rate traces through a simulated HSDS cluster (bench/sim) and
// compares scaling policies side by side: ours ("hsds", through the real scaler.Controller and
// its guards), the upstream recipes (HPA + prometheus-adapter, KEDA) and Knative's KPA, for every
// seed, against an offline frontier of schedules replayed in the same simulator (bench/frontier).
// It writes report.json, report.md and two PNGs per trace (bench/report).
//
// Entry points: Run (make bench) and DryRunTrace (hsds-autoscaler dry-run --trace).
package bench
