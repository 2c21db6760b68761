package heuristics

// Recommender is a scaling policy: ours (the HSDS policy) or a baseline (HPA algorithm, KEDA
// recipe, KPA). It is a plain value with no goroutines, no I/O and no clock of its own: the caller
// feeds it snapshots in time order, and Snapshot.Time is the only clock reading it gets (a zero
// Time gives an invalid decision). It may keep history between calls (windows, stabilization), so
// one Recommender serves one target.
type Recommender interface {
	// Name identifies the policy in reports and metrics ("hsds", "hpa-prometheus-adapter", ...).
	Name() string
	// Recommend returns the replica count the policy wants at snap.Time.
	Recommend(snap Snapshot) Decision
}

// Decision is a recommendation with its reason. A caller acts on it only when Valid is true and
// Replicas differs from Current.
type Decision struct {
	// Valid is false when the policy has not got enough data to decide (then it recommends no
	// change, and Reason says why).
	Valid bool
	// Current is the replica count the decision started from; Replicas the one recommended.
	Current  int32
	Replicas int32
	// Reason is a short, stable, machine-readable code ("overload", "scale-down-stable",
	// "hold-dwell", "no-data", ...) used as a metric label; Message is for humans and carries
	// the figures behind the decision.
	Reason  string
	Message string
}
