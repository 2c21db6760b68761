// Package report keeps the demo's timeline and writes what it leaves behind: a text summary and
// a PNG plot (gonum/plot) of load, capacity and replicas over time.
package report
