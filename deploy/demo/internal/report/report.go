package report

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
)

// Sample is one refresh of the view, reduced to what the plot and the summary need.
type Sample struct {
	T                           float64 // seconds since the replay started
	Offered, Attempts, Capacity float64 // req/s
	Rejected                    map[string]float64
	Client500, Client503        float64 // answers/s the clients saw (retries included)
	Desired, Spec, Ready        float64 // NaN when unknown
	Pending                     float64
}

// FromSnapshot reduces a view snapshot to a Sample.
func FromSnapshot(s view.Snapshot) Sample {
	rej := make(map[string]float64, len(s.Rejected))
	for k, v := range s.Rejected {
		rej[k] = v
	}
	return Sample{T: s.Elapsed.Seconds(), Offered: s.Offered, Attempts: s.Attempts, Capacity: s.Capacity,
		Rejected: rej, Client500: s.Client500, Client503: s.Client503, Desired: s.Desired, Spec: s.Spec, Ready: s.Ready, Pending: s.Pending}
}

// Change is one replica change the scaler made (its Rescaled Event).
type Change struct {
	T        float64 // seconds since the replay started
	From, To int
	Reason   string
}

var rescaledRE = regexp.MustCompile(`^scaled from (\d+) to (\d+) \([^)]*\): ([a-z-]+)`)

// ParseRescaled reads the scaler's Rescaled Event message ("scaled from 2 to 4 (2 ready, 0
// pending): overload: ...").
func ParseRescaled(msg string) (from, to int, reason string, err error) {
	m := rescaledRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, 0, "", fmt.Errorf("not a Rescaled message: %q", msg)
	}
	from, err1 := strconv.Atoi(m[1])
	to, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return 0, 0, "", fmt.Errorf("replica counts out of range in %q", msg)
	}
	return from, to, m[3], nil
}

// Timings are the wall times of the run's phases.
type Timings struct {
	ControlPlane time.Duration // controlplane.Start
	Setup        time.Duration // pods, serve, APIService, Prometheus
	Replay       time.Duration
	Total        time.Duration
}

// Result is everything a finished (or interrupted) demo leaves.
type Result struct {
	Plan    string // replay.Plan.Describe()
	Samples []Sample
	Changes []Change
	Clients view.Clients
	Timings Timings
	// Interrupted is set when the demo ended early (Ctrl-C, a failure).
	Interrupted string
}

// ScaledUp and ScaledDown report whether the scaler changed replicas in that direction.
func (r Result) ScaledUp() bool   { return r.count(1) > 0 }
func (r Result) ScaledDown() bool { return r.count(-1) > 0 }

func (r Result) count(dir int) int {
	n := 0
	for _, c := range r.Changes {
		if (c.To-c.From)*dir > 0 {
			n++
		}
	}
	return n
}

// Summary is the text summary.
func Summary(r Result) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("hsds-autoscaler demo summary")
	if r.Interrupted != "" {
		w("ENDED EARLY: %s", r.Interrupted)
	}
	w("replay:   %s", r.Plan)
	w("timing:   control plane %s, setup %s, warm-up + replay %s, total %s", round(r.Timings.ControlPlane), round(r.Timings.Setup), round(r.Timings.Replay), round(r.Timings.Total))
	first, peak, last := replicaRange(r.Samples)
	w("replicas: spec.replicas %s at start, %s at most, %s at the end", first, peak, last)
	w("changes:  %d up, %d down", r.count(1), r.count(-1))
	for i, c := range r.Changes {
		dir := "down"
		if c.To > c.From {
			dir = "up  "
		}
		end := c.T + ChangeCostWindow
		if i+1 < len(r.Changes) {
			end = math.Min(end, r.Changes[i+1].T)
		}
		if n := len(r.Samples); n > 0 {
			end = math.Max(c.T, math.Min(end, r.Samples[n-1].T))
		}
		c500, c503 := changeCost(r.Samples, c.T, end)
		w("  t=%4.0fs  %s %d -> %d  (%s); clients in the next %.0fs: %.0f 500s, %.0f 503s", c.T, dir, c.From, c.To, c.Reason, end-c.T, c500, c503)
	}
	failed := 0.0
	if r.Clients.Requests > 0 {
		failed = 100 * float64(r.Clients.Failed) / float64(r.Clients.Requests)
	}
	w("clients:  %d logical requests, %d ok, %d failed after h5pyd retries (%.2f%%), %d dropped",
		r.Clients.Requests, r.Clients.Succeeded, r.Clients.Failed, failed, r.Clients.Dropped)
	tot := integrate(r.Samples)
	w("503s:     overload %.0f, not_ready %.0f, upstream %.0f (agents' rates integrated over the replay)",
		tot["overload"], tot["not_ready"], tot["upstream"])
	w("errors:   %.0f 500s, %.0f 503s seen by the clients (attempts, retries included; rates integrated over the replay)",
		integrateOf(r.Samples, func(s Sample) float64 { return s.Client500 }), integrateOf(r.Samples, func(s Sample) float64 { return s.Client503 }))
	w("load:     peak offered %.1f req/s, mean %.1f req/s; peak capacity %.1f req/s", peakOf(r.Samples, func(s Sample) float64 { return s.Offered }),
		meanOf(r.Samples, func(s Sample) float64 { return s.Offered }), peakOf(r.Samples, func(s Sample) float64 { return s.Capacity }))
	w("verdict:  scaled up: %s, scaled down: %s", yesNo(r.ScaledUp()), yesNo(r.ScaledDown()))
	return b.String()
}

func replicaRange(ss []Sample) (first, peak, last string) {
	var known []float64
	for _, s := range ss {
		if !math.IsNaN(s.Spec) {
			known = append(known, s.Spec)
		}
	}
	if len(known) == 0 {
		return "-", "-", "-"
	}
	p := known[0]
	for _, v := range known {
		p = math.Max(p, v)
	}
	f := func(v float64) string { return strconv.Itoa(int(v)) }
	return f(known[0]), f(p), f(known[len(known)-1])
}

// ChangeCostWindow is how long after a replica change the summary counts the clients' 500s and 503s
// as that change's cost (shorter when the next change comes first): a real 0.9.4 scale-down jams
// the remaining SNs ~30 s (docs/e2e.md, "Real pods").
const ChangeCostWindow = 30.0

// changeCost integrates the clients' 500 and 503 rates over the samples in (from, to].
func changeCost(ss []Sample, from, to float64) (c500, c503 float64) {
	for i := 1; i < len(ss); i++ {
		if ss[i].T <= from || ss[i].T > to {
			continue
		}
		dt := ss[i].T - math.Max(ss[i-1].T, from)
		c500 += ss[i].Client500 * dt
		c503 += ss[i].Client503 * dt
	}
	return c500, c503
}

// integrate sums rate x interval per cause (each sample's rate stands for the span since the
// previous sample).
func integrate(ss []Sample) map[string]float64 {
	out := map[string]float64{}
	for i := 1; i < len(ss); i++ {
		dt := ss[i].T - ss[i-1].T
		for k, v := range ss[i].Rejected {
			out[k] += v * dt
		}
	}
	return out
}

// integrateOf sums f x interval like integrate.
func integrateOf(ss []Sample, f func(Sample) float64) float64 {
	t := 0.0
	for i := 1; i < len(ss); i++ {
		t += f(ss[i]) * (ss[i].T - ss[i-1].T)
	}
	return t
}

func peakOf(ss []Sample, f func(Sample) float64) float64 {
	p := 0.0
	for _, s := range ss {
		p = math.Max(p, f(s))
	}
	return p
}

func meanOf(ss []Sample, f func(Sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	t := 0.0
	for _, s := range ss {
		t += f(s)
	}
	return t / float64(len(ss))
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
