// Command hsds-agent is the HSDS node agent, a sidecar in every HSDS pod: it reads its pod's HSDS
// (1.x /metrics, 0.9.x /info, or the traffic it proxies to the SN) and serves one stable metric
// set on /metrics (docs/metrics.md). Wiring only: the work is in package agent.
package main
