// Package fakeagent serves hsds-agent expositions built from agent/schema names, for the adapter's
// tests and benchmarks. It is not the real agent: it only says what a test tells it to.
package fakeagent
