// Package scrape reads the figures the demo shows from the Prometheus text exposition of
// `hsds-autoscaler serve` (prometheus/common expfmt). The agents' expositions are read through
// the adapter's own parser and windowed store (adapter/agentmetrics, adapter/store), as serve
// reads them. Parsing is pure; the caller fetches the bodies.
package scrape
