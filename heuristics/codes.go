package heuristics

// Decision codes of the "hsds" policy (Decision.Reason). They are stable: metrics and
// dashboards use them as label values.
const (
	CodeNoData       = "no-data"          // no pod with usable figures: no decision (Valid=false)
	CodeInvalid      = "invalid-snapshot" // zero Time or no bounds in the snapshot (Valid=false)
	CodePanic        = "panic"            // offered load jumped > panicFactor x stable under pressure
	CodeOverload     = "overload"         // sustained overload 503s: scale up to the offered load
	CodeUtilization  = "utilization-up"   // utilization above scaleUpUtilization
	CodeScaleDown    = "scale-down-stable"
	CodeHoldDwell    = "hold-dwell"           // a change is wanted but the last one is too recent
	CodeHoldStable   = "hold-stabilizing"     // scale-down wanted but the window is not clean yet
	CodeHoldNotReady = "hold-not-ready"       // scale-down wanted but some scraped pod is not Ready/READY
	CodeAtMax        = "at-max"               // more wanted, maxReplicas reached
	CodeFanout       = "fanout-ceiling"       // a smaller size served as much: no more pods (fanout.go)
	CodeNoCapacity   = "no-capacity"          // no Ready, READY pod with an in-flight figure to measure utilization on
	CodeInBand       = "in-band"              // utilization inside the hysteresis band: no change
	CodeWithdraw     = "withdraw-unscheduled" // pods still waiting for a node are no longer needed
)
