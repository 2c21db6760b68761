// Package heuristics is the decision code that `hsds-autoscaler serve` runs: the "hsds" scaling
// policy (demand model, saturation and utilization rules, hysteresis, dwell times, rate limits,
// panic mode) and the types every policy shares (Recommender, Snapshot, PodSample, Decision,
// Duration). The policies it is compared with live in heuristics/baseline. docs/policy.md
// documents every rule, field and constant.
//
// The package is pure math: it imports only the standard library and gonum, reads no clock (a
// Recommender's one clock reading is Snapshot.Time; helpers take explicit timestamps), starts no
// goroutine and logs nothing. Recommenders keep history between calls and are not safe for
// concurrent use: one value serves one target. The safety envelope (bounds, stale data, settling,
// pending pods, the record of replica changes) is the scaler's: it arrives in the Snapshot, is read
// for signal filtering and sizing, and is never enforced here.
package heuristics
