// Package collector scrapes every pod's hsds-agent on a jittered interval with a bounded worker
// pool and records each reading, or the reason there is none, in the store.
package collector
