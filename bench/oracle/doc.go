// Package oracle is the clairvoyant baseline of bench: it knows the whole trace in advance and
// sets, at every control step, the fewest replicas whose measured no-503 capacity covers the load
// from now until a pod ordered now could be serving (lead time: start-up, plus the VM delay when
// the pods would not fit on the VMs at hand). It is a pure function of the trace, a capacity
// model and the plan's timings.
package oracle
