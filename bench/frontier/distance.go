package frontier

// Point is one replayed schedule (or policy): its failed fraction and pod-seconds.
type Point struct {
	Label      string
	Failed     float64
	PodSeconds float64
}

// CheapestNoWorse is the frontier point with the fewest pod-seconds among those failing no more
// than failed (false when none does).
func CheapestNoWorse(front []Point, failed float64) (Point, bool) {
	var best Point
	ok := false
	for _, p := range front {
		if p.Failed <= failed && (!ok || p.PodSeconds < best.PodSeconds) {
			best, ok = p, true
		}
	}
	return best, ok
}

// BestNoCostlier is the frontier point with the lowest failed fraction among those costing no
// more than podSeconds (false when none does).
func BestNoCostlier(front []Point, podSeconds float64) (Point, bool) {
	var best Point
	ok := false
	for _, p := range front {
		if p.PodSeconds <= podSeconds && (!ok || p.Failed < best.Failed) {
			best, ok = p, true
		}
	}
	return best, ok
}
