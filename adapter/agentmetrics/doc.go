// Package agentmetrics turns one hsds-agent exposition (the metric set named in agent/schema) into
// a Reading: the few figures the adapter keeps per scrape. I/O stays with the caller; this package
// only parses and validates.
package agentmetrics
