// Package baseline holds the policies bench compares the "hsds" policy with, each a
// heuristics.Recommender faithful to its upstream source: "hpa-prometheus-adapter" (the HPA v2
// algorithm on a Prometheus 503 rate, as HSDS's design document recommends), "keda" (the upstream
// KEDA recipe) and "kpa" (Knative's Pod Autoscaler on in-flight requests), with the emulation of
// Prometheus scraping counters and evaluating rate() that the first two need. docs/policy.md,
// "Baselines", lists every default and its source.
//
// Nothing here runs in serve. Like heuristics, the package is pure: standard library, gonum and
// heuristics only, no clock, no goroutine, no logging.
package baseline
