// Package report holds bench's result types and writes them as report.json, report.md and one
// PNG plot per trace.
package report
