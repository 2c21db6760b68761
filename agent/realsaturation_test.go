package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

// saturationStep is one open-loop step of a CPU-saturation ladder and what was seen over it.
type saturationStep struct {
	offered             float64
	served, shed        float64 // per second: 200s, 503s
	other               int     // other outcomes (no answer, 500, ...)
	gate                int     // the SN's "more than N tasks, returning 503" log lines over the step
	overload            float64 // the proxy agent's overload 503s over the step
	infoOverload        float64 // the info agent's
	median              time.Duration
	proxyMean, proxyMax float64 // the proxy's live in-flight (requests)
	infoMean, infoMax   float64 // the info source's in-flight (req_count.num_tasks) while exported
}

func (s saturationStep) String() string {
	return fmt.Sprintf("offered %5.0f/s  served %5.1f/s  503 %5.1f/s (gate %4d; overload: proxy %4.0f, info %4.0f)  other %3d  median %5.1f ms  in-flight through the proxy mean %4.1f max %3.0f  num_tasks mean %4.1f max %3.0f",
		s.offered, s.served, s.shed, s.gate, s.overload, s.infoOverload, s.other, float64(s.median.Microseconds())/1000, s.proxyMean, s.proxyMax, s.infoMean, s.infoMax)
}

// sheds reports whether the step shed more than share of what it offered.
func (s saturationStep) sheds(share float64) bool { return s.shed > share*s.offered }

// gateWarnings counts the SN's gate rejections in its log so far (hsds_logger: "more than
// max_task_count tasks, returning 503").
func gateWarnings(pod *realhsds.Pod) int {
	return strings.Count(pod.SN.Log(), "tasks, returning 503")
}

// runSaturationStep sends domain GETs through the proxy agent at an open-loop rate for d (at
// most 400 outstanding) and samples both agents' in-flight every 50 ms.
func runSaturationStep(t *testing.T, pod *realhsds.Pod, proxy, info *realAgent, rate float64, d time.Duration) saturationStep {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var pSum, pMax, iSum, iMax float64
	var n, iN int
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p, i := proxy.store.Snapshot().LiveInFlight, info.store.Snapshot().Gauges.InFlight
			n++
			pSum += p.Value
			pMax = max(pMax, p.Value)
			if i.Valid {
				iN++
				iSum += i.Value
				iMax = max(iMax, i.Value)
			}
		}
	})
	before, beforeInfo := proxy.counts(t), info.counts(t)
	warnBefore := gateWarnings(pod)
	o := realhsds.Run(ctxFor(t), realhsds.Load{URL: domainURL(proxy.target(pod)), Clients: 400, Rate: rate, Duration: d})
	cancel()
	wg.Wait()
	st := saturationStep{offered: rate, served: float64(o.Codes[200]) / d.Seconds(), shed: float64(o.Codes[503]) / d.Seconds(), median: o.Median[200]}
	settle() // the agents' next polls: the proxy settles its undecided 503s, the info agent counts
	st.overload = diffCounts(proxy.counts(t), before)[schema.Code503+"/"+schema.CauseOverload]
	st.infoOverload = diffCounts(info.counts(t), beforeInfo)[schema.Code503+"/"+schema.CauseOverload]
	st.gate = gateWarnings(pod) - warnBefore
	for c, k := range o.Codes {
		if c != 200 && c != 503 {
			st.other += k
		}
	}
	if n > 0 {
		st.proxyMean, st.proxyMax = pSum/float64(n), pMax
	}
	if iN > 0 {
		st.infoMean, st.infoMax = iSum/float64(iN), iMax
	}
	return st
}

// TestRealSaturationReachesTheGate: one real pod (max_task_count 30, the demo's) under open-loop
// domain GETs through the proxy agent, in 5 s steps 40 % apart from 50/s until the pod sheds more
// than 10 % of them (or 2,000/s); an info agent polls the same SN. It checks what a CPU-bound SN
// (one Python event loop; 2 shared cores here) does with its task count (docs/hsds.md):
//   - saturation is not hidden from the gate: every step's 503s are the gate's (its log line),
//     and where the pod sheds more than 10 %, both agents call at least half of them overload
//     (79-100 % measured);
//   - below saturation, in-flight is a queue's, not a proportional figure: at half the rate that
//     sheds 10 % or less, in a step that shed nothing, at most 20 % of the limit is in flight
//     through the proxy, so served / utilization there (the Little's-law capacity) is several
//     times what the pod serves. Steps that shed below half the top rate are left out: on a
//     shared machine another process's burst can saturate the pod for a moment at any rate
//     (a CI run: 5.4/s shed at 192/s, none at 269/s).
//
// It logs the ladder; docs/hsds.md has the runs. The first steps that shed (under 10 %) are not
// checked for causes: their 503s come in bursts shorter than the agents' 250 ms poll, which then
// sees a task sample under the limit (measured: the proxy called them upstream, the info agent
// other).
func TestRealSaturationReachesTheGate(t *testing.T) {
	// quietInFlight is the in-flight bound below saturation, a share of the limit: 0.1-1.1
	// requests were measured on an idle machine; 3.5 once at 192/s in CI, in a step where other
	// tests' load made the pod shed for a moment (such steps are not checked), and 1.1 at 70/s
	// with a median of 17 ms in the same run.
	const limit, step, quietInFlight = 30, 5 * time.Second, 0.2
	_, pod := newRealPod(t, limit)
	info := startRealAgent(t, schema.SourceInfo, pod, limit)
	proxy := startRealAgent(t, schema.SourceProxy, pod, limit)
	var steps []saturationStep
	for rate := 50.0; rate <= 2000; rate *= 1.4 {
		s := runSaturationStep(t, pod, proxy, info, rate, step)
		steps = append(steps, s)
		if s.sheds(0.1) {
			break
		}
		time.Sleep(time.Second)
	}
	var b strings.Builder
	for _, s := range steps {
		b.WriteString("  " + s.String() + "\n")
	}
	t.Logf("one real pod, max_task_count %d, domain GETs through the proxy (load average %s):\n%s", limit, realhsds.LoadAverage(), b.String())
	top := steps[len(steps)-1]
	if !top.sheds(0.1) {
		t.Fatalf("the pod served %.0f/s of %.0f offered without shedding 10 %%: no saturation to look at", top.served, top.offered)
	}
	for _, s := range steps {
		if n := s.shed * step.Seconds(); float64(s.gate) < 0.95*n || float64(s.gate) > 1.05*n+2 {
			t.Errorf("at %.0f/s the clients got %.0f 503s and the SN logged %d gate rejections: want the same", s.offered, n, s.gate)
		}
	}
	for name, got := range map[string]float64{"proxy": top.overload, "info": top.infoOverload} {
		if n := top.shed * step.Seconds(); got < 0.5*n {
			t.Errorf("at %.0f/s the %s agent called %.0f of %.0f 503s overload, want >= 50 %%", top.offered, name, got, n)
		}
	}
	checked := 0
	for _, s := range steps {
		if s.offered > top.offered/2 || s.shed > 0 {
			continue
		}
		checked++
		if s.proxyMean > quietInFlight*limit {
			t.Errorf("at %.0f/s (at most half the rate that sheds 10 %%, nothing shed) %.1f requests in flight on average, want <= %.0f (%.0f %% of the limit)",
				s.offered, s.proxyMean, quietInFlight*limit, 100*quietInFlight)
		}
	}
	if checked == 0 {
		t.Errorf("no step at half of %.0f/s or below that shed nothing: the ladder starts too high, or the machine's load came and went", top.offered)
	}
}
