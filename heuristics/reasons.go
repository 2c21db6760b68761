package heuristics

// Reason codes of the "hsds" policy's decisions (Decision.Reason). They are stable: metrics and
// dashboards use them as label values.
const (
	ReasonNoData       = "no-data"        // no pod with usable figures: no decision (Valid=false)
	ReasonBounds       = "bounds"         // current replicas outside [minReplicas, maxReplicas]
	ReasonPanic        = "panic"          // offered load jumped > panicFactor x stable under pressure
	ReasonOverload     = "overload"       // sustained overload 503s: scale up to the offered load
	ReasonUtilization  = "utilization-up" // utilization above scaleUpUtilization
	ReasonScaleDown    = "scale-down-stable"
	ReasonHoldDwell    = "hold-dwell"       // a change is wanted but the last one is too recent
	ReasonHoldStale    = "hold-stale"       // scale-down wanted but some pod's data is missing/stale
	ReasonHoldStable   = "hold-stabilizing" // scale-down wanted but the window is not clean yet
	ReasonHoldSettling = "hold-settling"    // within settleTime of the last change
	ReasonHoldPending  = "hold-pending"     // overloaded but pods of the last scale-up are Pending
	ReasonHoldNotReady = "hold-not-ready"   // scale-down wanted but some scraped pod is not Ready/READY
	ReasonAtMax        = "at-max"           // more wanted, maxReplicas reached
	ReasonNoCapacity   = "no-capacity"      // no Ready, READY pod to measure utilization on
	ReasonInBand       = "in-band"          // utilization inside the hysteresis band: no change
)
