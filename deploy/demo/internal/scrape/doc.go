// Package scrape reads the figures the demo shows from the Prometheus text expositions of the
// hsds-agents and of `hsds-autoscaler serve` (prometheus/common expfmt). Parsing is pure; the
// caller fetches the bodies.
package scrape
