// Package loadgen drives real HTTP load at HSDS service nodes (or at the agent's proxy in front of
// them) the way h5pyd clients do: open-loop arrivals at a rate that follows a trace, and on 503 the
// urllib3 retry schedule h5pyd configures (docs/hsds.md, "What clients do on 503"): waits 0, 2, 4, 8 ... s
// capped at 120 s, 10 retries, POST never retried, Retry-After honoured when present.
//
// It is the client side of the calibration test, the end-to-end tests and the demo. The simulator in
// bench/sim models the same clients without sockets.
package loadgen
