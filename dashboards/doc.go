// Package dashboards builds the project's Grafana dashboards and Prometheus rules from Go code:
// the "HSDS load" dashboard (hsds-agent's metrics), the "hsds-autoscaler" dashboard (serve's
// adapter and scaler metrics), the alert and recording rules and their promtool unit tests.
// Every metric name they read is listed once, in metrics.go. docs/dashboards.md documents them.
//
// Regenerate the files beside this package (and the reference part of docs/dashboards.md) with
// `go generate ./dashboards`; TestGeneratedFilesAreCurrent fails when they are stale.
package dashboards

//go:generate go run ./gen --dir . --docs ../docs/dashboards.md
