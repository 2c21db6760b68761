// Package promsource fills the store from Prometheus instead of scraping agents, for clusters
// that already scrape hsds-agent with Prometheus. Each round runs one instant query (Query): every
// agent series of the watched namespaces, and the scrape time of each pod's hsds_agent_up, so
// rates use real sample timestamps (a scrape seen twice is recorded once). Readings go through
// the same validation and rate logic as direct scrapes.
package promsource
