// Package proc runs the demo's child processes (hsds-autoscaler serve, Prometheus): each in its
// own process group, killed with its parent (Pdeathsig), output written to a log file (truncated at start), stopped
// by its own handle (SIGTERM to the group, SIGKILL after a timeout).
package proc
