// Package fakeagent serves hsds-agent expositions built from agent/schema names, for the adapter's
// tests and benchmarks, and reads the process figures (CPU time, RSS) those benchmarks report. It
// is not the real agent: it only says what a test tells it to.
package fakeagent
