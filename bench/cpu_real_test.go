package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

const (
	// cpuRequests is how many requests of each kind the CPU measurement sends, one at a time.
	cpuRequests = 40
	// maxSimCPUWait bounds the wait for the real SN's CPU, as a share of a simulated task's mean
	// hold, at the most a simulated pod can serve (its gate full): above it the SN's queue would
	// double the simulated pods' holds, and the simulator would need a CPU server. 4-14 % was
	// measured idle; the bound is reached at ~32 ms of SN CPU per request of the mix (1 pod),
	// 16-24 ms measured, so that a machine busy with other tests does not fail it.
	maxSimCPUWait = 1.0
)

// cpuCost is what one kind of request cost the real processes, per request.
type cpuCost struct {
	name          string
	weight        float64
	sn, dns, wall time.Duration // CPU of the SN that took it, of both DNs, and the wall time
}

// TestRealSNCPUPerRequest measures the CPU a real 0.9.4 SN (and the DNs behind it) spends on each
// request of the scenario's mix (tailMix: 2 pods, so a selection fans out over 2 DNs), one request
// at a time, and sets it beside the simulator's pod: the SN is one Python event loop, a single
// server, so its CPU per request bounds what one pod can serve whatever its task gate admits
// (TestRealSaturationReachesTheGate, agent). The simulator's pods have no CPU: their only limit
// is the gate, each request holding its tasks for a service time drawn whatever the load. That
// holds while the SN's CPU is idle most of the time at the rate the gate lets a simulated pod
// serve with its gate full: the test requires that a request's wait for the CPU there (an M/G/1
// queue with the measured CPU per kind) be at most maxSimCPUWait of a task's mean hold, and every
// request answered 200 or 201 (loadgen.HSDSDo, as createTailDomain sends them); it logs the figures; docs/bench.md ("The model") has the runs.
func TestRealSNCPUPerRequest(t *testing.T) {
	sc := calScenario()
	c := realhsds.Start(t, realhsds.Options{Pods: tailPods, MaxTaskCount: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sn := c.Pods[0].SN
	d, err := createTailDomain(ctx, sn.URL(), sc)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"chunk GET", "chunk PUT", "POST points", "crawl", "small GET"} // tailMix's order
	mix := tailMix(sc, d)
	if len(mix) != len(names) {
		t.Fatalf("tailMix has %d kinds of request, the names here %d", len(mix), len(names))
	}
	var costs []cpuCost
	for i, r := range mix {
		for range 3 { // warm the caches
			if err := loadgen.HSDSDo(ctx, r.Method, sn.URL()+r.Path, r.Body, nil); err != nil {
				t.Fatalf("%s: %v", names[i], err)
			}
		}
		snBefore, dnBefore, start := realhsds.CPU(t, sn.PID()), dnCPU(t, c), time.Now()
		for range cpuRequests { // one at a time, each on a fresh connection, as the load sends them
			if err := loadgen.HSDSDo(ctx, r.Method, sn.URL()+r.Path, r.Body, nil); err != nil {
				t.Fatalf("%s: %v", names[i], err)
			}
		}
		costs = append(costs, cpuCost{name: names[i], weight: r.Weight,
			sn:   (realhsds.CPU(t, sn.PID()) - snBefore) / cpuRequests,
			dns:  (dnCPU(t, c) - dnBefore) / cpuRequests,
			wall: time.Since(start) / cpuRequests})
	}
	var b strings.Builder
	var snMix, dnMix, wallMix, wsum float64
	for _, k := range costs {
		fmt.Fprintf(&b, "  %-12s weight %.2f  SN %6.1f ms  DNs %6.1f ms  wall %6.1f ms\n", k.name, k.weight, ms(k.sn), ms(k.dns), ms(k.wall))
		snMix += k.weight * ms(k.sn)
		dnMix += k.weight * ms(k.dns)
		wallMix += k.weight * ms(k.wall)
		wsum += k.weight
		if k.sn <= 0 {
			t.Errorf("%s: the SN spent no CPU on %d requests: no figure", k.name, cpuRequests)
		}
	}
	snMix, dnMix, wallMix = snMix/wsum, dnMix/wsum, wallMix/wsum
	fmt.Fprintf(&b, "  mix          SN %6.1f ms  DNs %6.1f ms  wall %6.1f ms: one SN's CPU serves at most %.0f req/s of the mix\n", snMix, dnMix, wallMix, 1000/snMix)
	worst := 0.0
	for _, n := range []int{1, 2} { // chunk requests fan out to 16 workers at 1 pod, 32 from 2 on
		lam, wait, hold := simCPUQueue(sc, n, costs)
		fmt.Fprintf(&b, "  %d pod(s): the simulated pod serves at most %.1f req/s (its gate full); there the SN would be busy %.2f of the time and a request wait %.1f ms for it, %.0f %% of a task's mean hold (%.0f ms)\n",
			n, lam, lam*snMix/1000, 1000*wait, 100*wait/hold, 1000*hold)
		worst = max(worst, wait/hold)
	}
	t.Logf("CPU per request of the scenario's mix, real HSDS 0.9.4, %d pods, %d requests of each kind one at a time (load average %s):\n%s",
		tailPods, cpuRequests, realhsds.LoadAverage(), b.String())
	if worst > maxSimCPUWait {
		t.Errorf("with its gate full, a simulated pod's requests would wait %.0f %% of a task's hold for the real SN's CPU (> %.0f %%): the simulator, which has no CPU, would need one",
			100*worst, 100*maxSimCPUWait)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// simCPUQueue returns, for a pod of an n-pod simulated cluster with its gate full, the rate it
// serves (Little's law: the tasks the gate leaves / mean task-seconds per request), the mean wait
// for the SN's CPU if every request cost what costs measured for its kind (Pollaczek-Khinchine:
// lambda E[S^2] / 2(1 - rho)) and a task's mean hold (task-seconds / tasks per request).
func simCPUQueue(sc sim.Scenario, n int, costs []cpuCost) (lambda, wait, hold float64) {
	lambda = sc.PodCapacity(n) / sc.RatedUtilization
	var es, es2, wsum float64
	for _, k := range costs {
		s := k.sn.Seconds()
		es += k.weight * s
		es2 += k.weight * s * s
		wsum += k.weight
	}
	es, es2 = es/wsum, es2/wsum
	rho := lambda * es
	if rho >= 1 {
		return lambda, math.Inf(1), sc.MeanTaskSeconds(n) / sc.MeanTasks(n)
	}
	return lambda, lambda * es2 / (2 * (1 - rho)), sc.MeanTaskSeconds(n) / sc.MeanTasks(n)
}

// dnCPU is the CPU time of every DN of the cluster so far.
func dnCPU(t *testing.T, c *realhsds.Cluster) time.Duration {
	var sum time.Duration
	for _, p := range c.Pods {
		sum += realhsds.CPU(t, p.DN.PID())
	}
	return sum
}
