package heuristics

// Decision codes of the "hsds" policy (Decision.Reason). They are stable: metrics and
// dashboards use them as label values.
const (
	CodeNoData       = "no-data"        // no pod with usable figures: no decision (Valid=false)
	CodeBounds       = "bounds"         // current replicas outside [minReplicas, maxReplicas]
	CodePanic        = "panic"          // offered load jumped > panicFactor x stable under pressure
	CodeOverload     = "overload"       // sustained overload 503s: scale up to the offered load
	CodeUtilization  = "utilization-up" // utilization above scaleUpUtilization
	CodeScaleDown    = "scale-down-stable"
	CodeHoldDwell    = "hold-dwell"       // a change is wanted but the last one is too recent
	CodeHoldStale    = "hold-stale"       // scale-down wanted but some pod's data is missing/stale
	CodeHoldStable   = "hold-stabilizing" // scale-down wanted but the window is not clean yet
	CodeHoldSettling = "hold-settling"    // within settleTime of the last change
	CodeHoldPending  = "hold-pending"     // overloaded but pods of the last scale-up are Pending
	CodeHoldNotReady = "hold-not-ready"   // scale-down wanted but some scraped pod is not Ready/READY
	CodeAtMax        = "at-max"           // more wanted, maxReplicas reached
	CodeNoCapacity   = "no-capacity"      // no Ready, READY pod to measure utilization on
	CodeInBand       = "in-band"          // utilization inside the hysteresis band: no change
)
