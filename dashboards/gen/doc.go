// Command gen writes the generated dashboards, rules and promtool tests into the dashboards
// directory and the reference section of docs/dashboards.md.
package main
