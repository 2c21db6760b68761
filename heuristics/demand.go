package heuristics

import (
	"math"
	"time"
)

// nodeStateReady is HSDS's READY state (agent/schema.StateReady; this package imports only the
// standard library and gonum, so the value is repeated here and pinned by a test).
const nodeStateReady = "READY"

// Signals is what the HSDS policy reads from one snapshot: pod counts and cluster-wide rates.
type Signals struct {
	Current int32 // SpecReplicas
	// Pod counts. Capacity counts only Ready pods in phase Running whose SN is READY with fresh data.
	// Stale counts Running pods without fresh figures (Pending and terminating pods cannot be
	// scraped and carry no load).
	Pods, Capacity, Known, Stale, Pending int
	// Unscheduled counts the Pending pods no node has taken yet (PodSample.Scheduled false): they
	// wait for the cluster autoscaler's VM, and have not joined the HSDS roster.
	Unscheduled int
	// Rates summed over pods with fresh data (req/s).
	Attempts, Served, Overload503, NotReady503, Upstream503 float64
	// Uncorroborated503 are a 0.9.x pod's overload 503s that its own task figure does not
	// support (overload503): rejections clients saw, no scaling pressure.
	Uncorroborated503 float64
	// RejectRatio is all 503s / attempts (what drives client retries).
	RejectRatio float64
	// Offered is the retry-discounted unique demand (req/s), see UniqueDemand.
	Offered float64
	// Utilization is sum(in-flight) / sum(limit) over the capacity pods that have an in-flight
	// figure (podInFlight), each net of the policy's BackgroundTasks; ok false when none.
	Utilization   float64
	UtilizationOK bool
	// UtilizationFloor is the lowest cluster utilization the figures allow: the same in-flight
	// sum over the limits of every capacity pod that has a figure or served requests without one
	// (counted as holding nothing beyond BackgroundTasks). A 0.9.x pod has a figure only for the
	// agent's --in-flight-max-age after a gated request, so at a low rate Utilization may rest on
	// the one pod a burst just hit; the scale-up rules read this instead. Equal to Utilization
	// when every capacity pod has a figure (always so for 1.x).
	UtilizationFloor float64
	// Figured counts the capacity pods whose in-flight figure is in Utilization.
	Figured int
	// PodLimit is the mean task limit, net of BackgroundTasks, of the pods whose figures make up
	// Utilization (0 when none): Utilization x PodLimit is their mean in-flight count.
	PodLimit float64
	// Overloaded is true when overload 503s exceed both thresholds (and not settling).
	Overloaded bool
}

// isCapacity reports whether a pod serves: Running, Ready and its SN READY.
func isCapacity(p PodSample) bool {
	return p.Phase == PodRunning && p.Ready && p.NodeState == nodeStateReady
}

// Measure reduces a snapshot to Signals under policy p. Only Fresh pods' figures count (the
// scaler decides freshness); while snap.Settling no 503 counts as overload (the rescale causes its
// own).
func Measure(snap Snapshot, p Policy) Signals {
	s := Signals{Current: snap.SpecReplicas, Pods: len(snap.Pods)}
	// inFlight and limit over the gated pods (those with a figure); unfigured: the net limits of
	// the capacity pods serving without one.
	var inFlight, limit, unfigured float64
	gated := 0
	window := rateWindow(snap)
	for i := range snap.Pods {
		pod := &snap.Pods[i]
		if pod.Phase == PodPending {
			s.Pending++
			if !pod.Scheduled {
				s.Unscheduled++
			}
		}
		if !pod.Fresh {
			// Only a Running pod's missing figures hide load: a Pending pod has never served, and
			// the Service sends no new requests to a terminating pod or one on a lost node (phase
			// Unknown). Counting them would hold every scale-down for as long as a pod cannot be
			// scheduled, i.e. exactly when removing it matters. Same rule as the scaler's
			// stale-data guard.
			if pod.Phase == PodRunning {
				s.Stale++
			}
			continue
		}
		s.Known++
		w := WindowShare(*pod, window)
		s.Attempts += w * pod.RequestRate
		s.Overload503 += w * overload503(*pod, p)
		s.NotReady503 += w * pod.Rejected503.NotReady
		s.Upstream503 += w * pod.Rejected503.Upstream
		s.Uncorroborated503 += w * (pod.Rejected503.Overload - overload503(*pod, p))
		if isCapacity(*pod) && pod.Limit > 0 {
			s.Capacity++
			if f, ok := podInFlight(*pod); ok {
				f, l := netOfBackground(f, pod.Limit, p.BackgroundTasks)
				inFlight += f
				limit += l
				gated++
			} else {
				_, l := netOfBackground(0, pod.Limit, p.BackgroundTasks)
				unfigured += l
			}
		}
	}
	total503 := s.Overload503 + s.NotReady503 + s.Upstream503 + s.Uncorroborated503
	s.Served = math.Max(0, s.Attempts-total503)
	if s.Attempts > 0 {
		s.RejectRatio = math.Min(1, total503/s.Attempts)
	}
	s.Offered = UniqueDemand(s.Attempts, s.RejectRatio, p.RetriableShare, p.ClientRetries)
	if limit > 0 {
		s.Utilization, s.UtilizationOK = inFlight/limit, true
		s.UtilizationFloor = inFlight / (limit + unfigured)
		s.PodLimit = limit / float64(gated)
		s.Figured = gated
	}
	pressure := s.Overload503 + p.UpstreamWeight*s.Upstream503
	s.Overloaded = !snap.Settling && s.Attempts > 0 && pressure > p.OverloadMinRate &&
		pressure/s.Attempts > p.OverloadRatio
	return s
}

// rateWindow is the span of the cluster's rates: the longest span any fresh pod's rates are
// computed over (the rate window, for every pod that has been scraped that long).
func rateWindow(snap Snapshot) time.Duration {
	var w time.Duration
	for _, pod := range snap.Pods {
		if pod.Fresh {
			w = max(w, pod.Window)
		}
	}
	return w
}

// WindowShare is the part of the cluster's rate window a pod's rates stand for in the cluster's
// sums (Measure's, and the custom-metrics adapter's Deployment figures): 1, except for a pod that started within the window (a scale-up's new pod), whose rates are
// over its own shorter span. Before it started, the load it serves now went to the older pods,
// whose rates still hold it for the rest of their window: summed as they are, the rates count
// that load twice until the window has passed (issue 13, the flash shape at serve's cadence: 2
// pods joining 2 read offered 16 -> 24-28 req/s for ~30 s at a true 16). Weighted by its span
// over the window, the sum is the cluster's requests in the last window over the window. A pod
// without a start time (none of this project's pod sources leaves it zero for a Running pod)
// counts whole, as before.
func WindowShare(pod PodSample, window time.Duration) float64 {
	if window <= 0 || pod.Started.IsZero() || pod.SampleTime.Sub(pod.Started) >= window || pod.Window >= window {
		return 1
	}
	return max(0, pod.Window.Seconds()/window.Seconds())
}

// podInFlight is the in-flight figure a pod contributes to utilization. A pod without a current
// figure (0.9.x: no gated request for the agent's --in-flight-max-age) that also served no
// request over its whole rate window is idle (nothing new arrived, so nothing is in flight):
// 0. One with requests but no figure contributes nothing, neither load nor capacity.
func podInFlight(pod PodSample) (float64, bool) {
	switch {
	case !pod.NoInFlight:
		return pod.InFlight, true
	case pod.RequestRate == 0:
		return 0, true
	}
	return 0, false
}

// netOfBackground takes the SN's own background tasks off an in-flight figure and its limit: what
// is left is the load requests put on the gate, against the room they have. A limit that the
// background tasks would use up entirely is left as it is (a misconfiguration, not a reason to
// divide by zero).
func netOfBackground(inFlight, limit, background float64) (float64, float64) {
	if background <= 0 || limit <= background {
		return inFlight, limit
	}
	return math.Max(0, inFlight-background), limit - background
}

// overload503 is the overload 503 rate a pod's figures support. An exact source's is taken as it
// is. An inexact one (HSDS 0.9.x /info: an upper bound that the agent attributes to the gate from
// its task samples) counts only while the pod's own current task figure corroborates it, i.e.
// is at least ScaleUpUtilization of the limit; otherwise those 503s are Uncorroborated503 (in
// the reject ratio, no scaling pressure): a 0.9.x pod that serves 404s or whose DN died must
// never look overloaded (docs/metrics.md, "0.9.x figures").
func overload503(pod PodSample, p Policy) float64 {
	if pod.Exact503 || pod.Rejected503.Overload == 0 {
		return pod.Rejected503.Overload
	}
	if !pod.NoInFlight && pod.Limit > 0 && pod.InFlight >= p.ScaleUpUtilization*pod.Limit {
		return pod.Rejected503.Overload
	}
	return 0
}

// UniqueDemand estimates the unique request rate behind an observed attempt rate.
//
// Estimator: every attempt is rejected with the same probability q (the observed 503 share), and
// a rejected retriable request comes back until it succeeds or has used its retries (h5pyd: 10,
// urllib3 backoff 0, 2, 4 ... 120 s; POST is never retried). In steady state one unique retriable
// request makes 1 + q + q^2 + ... + q^retries = (1-q^(retries+1))/(1-q) attempts, a non-retriable one
// makes 1, so
//
//	unique = attempts / (share*(1-q^(k+1))/(1-q) + (1-share)).
//
// At q = 0 it is the attempt rate; at q = 1 every retriable request is counted k+1 times. It
// ignores the backoff delay itself (which only shifts attempts in time); the policy covers that
// by sizing from the peak of the short window, before back-off thins the attempts.
func UniqueDemand(attempts, q, retriableShare float64, retries int) float64 {
	if attempts <= 0 {
		return 0
	}
	q = math.Min(math.Max(q, 0), 1)
	var perRequest float64
	if q == 1 {
		perRequest = float64(retries + 1)
	} else {
		perRequest = (1 - math.Pow(q, float64(retries+1))) / (1 - q)
	}
	return attempts / (retriableShare*perRequest + (1 - retriableShare))
}

// fanoutDivisor is 1 - f + f*n: how much more task capacity one request uses in an n-DN cluster
// than in a one-DN cluster (a request fans out to up to 16 x n chunk tasks against the fixed
// max_task_count; f is the share of a request's tasks that scale with n).
func fanoutDivisor(f float64, n int) float64 {
	if n < 1 {
		n = 1
	}
	return 1 - f + f*float64(n)
}

// PodCapacityAt is the request rate one pod sustains at full utilization in an n-pod cluster,
// given c1, its capacity in a one-pod cluster: c1 / (1 - f + f*n).
func PodCapacityAt(c1, f float64, n int) float64 { return c1 / fanoutDivisor(f, n) }

// ReplicasForDemand is the smallest n with n * PodCapacityAt(c1, f, n) * target >= demand, in
// closed form: n >= demand*(1-f) / (c1*target - demand*f). ok is false when no n suffices (the
// cluster's total capacity c1/f is below demand) or c1*target <= 0.
func ReplicasForDemand(demand, c1, f, target float64) (n int32, ok bool) {
	c := c1 * target
	if c <= 0 {
		return 0, false
	}
	if demand <= 0 {
		return 1, true
	}
	den := c - demand*f
	if den <= 0 {
		return 0, false
	}
	return ceilReplicas(demand * (1 - f) / den), true
}

// ReplicasForUtilization is the proportional rule under the fan-out model: the n' that brings
// utilization u, measured on n pods, to target, n' = u*n*(1-f) / (target*(1-f+f*n) - u*n*f);
// with f = 0 it is HPA's u*n/target. ok is false when no n' reaches the target.
func ReplicasForUtilization(u float64, n int, f, target float64) (int32, bool) {
	if n < 1 || target <= 0 {
		return 0, false
	}
	un := u * float64(n)
	den := target*fanoutDivisor(f, n) - un*f
	if den <= 0 {
		return 0, false
	}
	return ceilReplicas(un * (1 - f) / den), true
}

// ceilReplicas rounds a replica figure up, tolerating float noise (2.0000000001 -> 2), and
// saturates at MaxInt32.
func ceilReplicas(x float64) int32 {
	x = math.Ceil(x - 1e-9)
	if x < 1 {
		return 1
	}
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(x)
}

// capacitySample is the one-pod-cluster capacity c1 implied by this snapshot: the served rate per
// capacity pod divided by utilization (Little's law: at full utilization the rate scales by 1/u),
// normalized by the fan-out divisor. u is the utilization smoothed over about the horizon of the
// served rate (an EWMA with half-life ShortWindow/2): the in-flight gauge is an instantaneous
// reading that swings by a whole request's tasks (up to 16 x DNs each), so dividing a
// window-averaged rate by one reading selected for being high (>= learnU) would bias c1 low.
// ok is false unless the cluster is busy enough for the figure to mean something (smoothed
// utilization >= learnU, or overload), and false when the figure implies a mean request
// task-time above MaxRequestTaskTime (see requestTaskTime).
func capacitySample(s Signals, u float64, p Policy) (float64, bool) {
	if s.Capacity == 0 || s.Served <= 0 || !s.UtilizationOK {
		return 0, false
	}
	shedding := gateShedding(s, p)
	if u < p.CapacityLearnUtilization && !shedding {
		return 0, false
	}
	u = math.Min(1, math.Max(u, p.CapacityLearnUtilization))
	if shedding {
		u = 1 // shedding: the SNs serve all they can
	}
	perPod := s.Served / float64(s.Capacity)
	if requestTaskTime(perPod, u, s.PodLimit) > p.MaxRequestTaskTime.Seconds() {
		return 0, false
	}
	return perPod / u * fanoutDivisor(p.FanoutShare, s.Capacity), true
}

// gateShedding reports whether the SNs' own gates shed load: overload 503s above OverloadMinRate
// and OverloadRatio of the attempts. Overloaded also counts upstream 503s (UpstreamWeight), but a
// DN's 503 or timeout passed through an SN says nothing of that SN's capacity: such a window is
// no "served = capacity" sample (a stuck or slow DN would teach a c1 far too low).
func gateShedding(s Signals, p Policy) bool {
	return s.Overloaded && s.Attempts > 0 && s.Overload503 > p.OverloadMinRate && s.Overload503/s.Attempts > p.OverloadRatio
}

// requestTaskTime is the mean gate task-time of a request (task-seconds) that a capacity sample
// implies, by Little's law: a pod holding u x limit tasks while it serves perPod req/s holds each
// request's tasks for u x limit / perPod seconds in all (u = 1 under overload: the gate is full).
// The sample itself is perPod / u = limit / that time, so bounding the time by
// MaxRequestTaskTime is bounding the sample below by limit / MaxRequestTaskTime.
//
// It is tasks x seconds, not a wall-clock time: a request fanning out to 34 workers for 1 s holds
// 34 task-seconds, so HSDS's `timeout` (30 s, after which it gives up on a DN) does not bound
// it. What the default rests on is measurement: 0.05-0.4 task-seconds on real 0.9.4 pods, 5-13 in
// the bench's mix (docs/policy.md, maxRequestTaskTime). A time far above those is in-flight that
// no request accounts for: idle keep-alive
// connections (HSDS counts each as a task, docs/hsds.md), a 0.9.x task figure frozen high, or
// requests hung on a departed DN until that timeout (the gate jam after a scale-down, counted as
// overload). Such a sample is discarded, not clamped: it carries no capacity figure, and a
// clamped one would still pull c1 down to the floor.
func requestTaskTime(perPod, u, limit float64) float64 {
	return u * limit / perPod
}
