// Package agent is the HSDS node agent: it reads one HSDS pod (HSDS 1.x /metrics, HSDS 0.9.x /info,
// or the traffic it proxies to the service node) and exports one stable metric set, named in
// agent/schema and documented in docs/metrics.md.
//
// I/O (fetch*) is kept apart from pure parsing (parseInfo, parseMetrics) and from pure decisions
// (deltas, cause rules), so that parsers are fuzzable and rules are table-tested. Every source
// is judged by the real HSDS 0.9.4 (real_test.go, internal/realhsds).
package agent
