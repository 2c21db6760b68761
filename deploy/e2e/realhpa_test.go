//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sideResult is what one scaler did for the same real pods and the same load step.
type sideResult struct {
	name              string
	atStep            int32 // spec.replicas when the step began
	changes           []change
	toNeeded, toReady time.Duration // from the load step to spec.replicas >= 2, and to 2 pods READY
	requests          int
	failed, failedGET int
	failedPOST        int
	codes             map[string]int
	// hpaStatus is the HPA side's statuses from its creation (hpaWatch) and, when it had already
	// scaled at the step, the clients' and agents' figures per second of the light load.
	hpaStatus string
}

func (r sideResult) String() string {
	return fmt.Sprintf("%-11s to 2 replicas %5.1fs, 2 pods READY %5.1fs; changes %v; requests %d, failed %d (GET %d after 4 retries, POST %d); attempts %s",
		r.name, r.toNeeded.Seconds(), r.toReady.Seconds(), r.changes, r.requests, r.failed, r.failedGET, r.failedPOST, formatCodes(r.codes))
}

// realStep is the side-by-side load: light, then realOverload for 60 s, then 15 s for the retries
// of the last shed requests to end.
const realStep = 60 * time.Second

// side is where one side runs: its namespace, and the fake kubelet's bridge prefix and pod CIDR.
type side struct {
	name, ns, prefix, cidr string
	hpa                    bool
}

var (
	oursSide = side{"our scaler", "e2e-real-ours", "hsdso", "10.77.23.0/24", false}
	hpaSide  = side{"HPA", "e2e-real-hpa", "hsdsh", "10.77.24.0/24", true}
	// hpaRerun is where the HPA side runs again when it had already scaled on the light load.
	hpaRerun = side{"HPA", "e2e-real-hpa2", "hsdsk", "10.77.27.0/24", true}
)

// runSide runs one real-pod workload (1 pod) under the load step with our scaler, or with a real
// HPA on hsds_503_rate (averageValue 1, 1-3 replicas) reading our adapter (serve in dry-run).
func runSide(ctx context.Context, t *testing.T, sd side) sideResult {
	t.Helper()
	name, ns, hpa := sd.name, sd.ns, sd.hpa
	w := newRealWorkload(ctx, t, ns, sd.prefix, sd.cidr, 1, nil)
	l := startRealLoad(t, w.kubelet, w.domains, realLight)
	var hpaLog *hpaWatch
	created := time.Now()
	if hpa {
		s := startServe(t, "serve", serveArgs(ns, realPolicy(t, ns, nil, nil), "--dry-run")...)
		registerAdapter(ctx, t, ns, s)
		t.Logf("%s: %s", name, quiet503(ctx, t, ns))
		created = time.Now()
		createHPA(ctx, t, ns, 1, 3)
		// Watched from its creation: an HPA that scales on the light load says why.
		hpaLog = watchHPA(ctx, ns, created)
		hpaReads(ctx, t, ns, 2*hpaSyncPeriod+30*time.Second)
	} else {
		startServe(t, "serve", serveArgs(ns, realPolicy(t, ns, nil, nil))...)
	}
	rec := w.record(t)
	// A scaler that has just started holds every change for guards.settle (it cannot know when
	// the last rescale was); in operation it has long been running, so the step comes after that.
	time.Sleep(max(10*time.Second, realSettle+5*time.Second))
	step := rec.arm()
	atStep, err := w.replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, failedBefore := l.outcome()
	reqBefore, _ := l.outcome()
	l.set(realOverload)
	res := sideResult{name: name, atStep: atStep}
	deadline := step.Add(realStep)
	for time.Now().Before(deadline) {
		n := 0
		for _, p := range w.kubelet.Pods() {
			if p.Ready() {
				n++
			}
		}
		if res.toReady == 0 && n >= 2 {
			res.toReady = time.Since(step)
		}
		time.Sleep(200 * time.Millisecond)
	}
	l.set(realLight)
	time.Sleep(15 * time.Second) // shed GETs retry up to 14 s later
	res.changes, _ = rec.snapshot()
	for _, c := range res.changes {
		if res.toNeeded == 0 && c.to >= 2 && !c.at.Before(step) {
			res.toNeeded = c.at.Sub(step)
		}
	}
	reqAfter, failed := l.outcome()
	res.requests = reqAfter - reqBefore
	for _, f := range failed[len(failedBefore):] {
		res.failed++
		if f.post {
			res.failedPOST++
		} else {
			res.failedGET++
		}
	}
	as := l.between(step, time.Now())
	res.codes = codes(as)
	t.Logf("%s: clients per second around the step (t = 0 at the step):\n%s", name, l.perSecond(step, step.Add(-2*time.Second), deadline.Add(5*time.Second)))
	t.Logf("%s: agents:\n%s", name, w.agents.perSecond(step, step.Add(-2*time.Second), deadline.Add(5*time.Second)))
	if hpaLog != nil {
		res.hpaStatus = fmt.Sprintf("what the HPA's status said (t = 0 at its creation; the step at t+%.1fs):\n%s", step.Sub(created).Seconds(), hpaLog.stop())
		if atStep > 1 { // what the light load did before the step: the 503s the HPA read
			res.hpaStatus += fmt.Sprintf("\nclients per second from the HPA's creation (t = 0 at the step):\n%s\nagents:\n%s",
				l.perSecond(step, created, step), w.agents.perSecond(step, created, step))
		}
		t.Logf("%s: %s", name, res.hpaStatus)
	} else if atStep > 1 {
		// Our side scaled on the light load: its Rescaled Events carry the decision's figures
		// (the reading that crossed a threshold), which CI's output shows nowhere else.
		msgs, err := events(ctx, ns, "Rescaled")
		res.hpaStatus = fmt.Sprintf("our scaler's Rescaled Events (err %v):\n%s", err, strings.Join(msgs, "\n"))
	}
	return res
}

// quiet503 waits (up to 90 s) until the adapter's hsds_503_rate, the HPA's metric, has read at
// most quietRate for every pod three times running, one second apart, so that the HPA starts from
// the light load's steady state and not from the pod's first requests; it returns what it read.
// The light load failing to get there is a failure: the step would then not start from a
// quiet pod.
func quiet503(ctx context.Context, t *testing.T, ns string) string {
	t.Helper()
	const quietRate = 0.5 // 503/s per pod; the HPA's target is 1
	start := time.Now()
	var reads []string // each distinct reading, with when it was first read
	last, calm := "", 0
	for time.Since(start) < 90*time.Second {
		got, err := podMetric(ctx, ns, "v1beta2", "hsds_503_rate")
		val := fmt.Sprint(got)
		if err != nil {
			val = err.Error()
		}
		if val != last {
			reads = append(reads, fmt.Sprintf("t%+.0fs %s", time.Since(start).Seconds(), val))
			last = val
		}
		high := err != nil || len(got) == 0
		for _, v := range got {
			high = high || v > quietRate
		}
		if high {
			calm = 0
		} else {
			calm++
		}
		if calm == 3 {
			return fmt.Sprintf("hsds_503_rate quiet after %.1fs (reads: %s)", time.Since(start).Seconds(), strings.Join(reads, "; "))
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("hsds_503_rate never read <= %.1f for every pod three times running in 90 s of the light load: %s", quietRate, strings.Join(reads, "; "))
	return ""
}

// hpaWatch records every distinct status of the HPA of a namespace (desired replicas, the metric
// it read, its conditions), so that an HPA that does not scale says why.
type hpaWatch struct {
	done   chan struct{}
	cancel context.CancelFunc
	lines  []string
}

func watchHPA(ctx context.Context, ns string, t0 time.Time) *hpaWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &hpaWatch{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(w.done)
		last := ""
		for ctx.Err() == nil {
			line := ""
			h, err := cluster.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "hsds", metav1.GetOptions{})
			if err != nil {
				line = "get: " + err.Error()
			} else {
				line = fmt.Sprintf("current %d desired %d", h.Status.CurrentReplicas, h.Status.DesiredReplicas)
				if h.Status.LastScaleTime != nil {
					line += fmt.Sprintf(" lastScale t%+.1fs", h.Status.LastScaleTime.Sub(t0).Seconds())
				}
				for _, m := range h.Status.CurrentMetrics {
					if m.Pods != nil && m.Pods.Current.AverageValue != nil {
						line += fmt.Sprintf(" %s=%s", m.Pods.Metric.Name, m.Pods.Current.AverageValue)
					}
				}
				for _, c := range h.Status.Conditions {
					line += fmt.Sprintf("; %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
				}
			}
			if line != last {
				w.lines = append(w.lines, fmt.Sprintf("  t%+6.1fs %s", time.Since(t0).Seconds(), line))
				last = line
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return w
}

// stop ends the watch and returns what it saw.
func (w *hpaWatch) stop() string {
	w.cancel()
	<-w.done
	return strings.Join(w.lines, "\n")
}

// TestRealSideBySideOurScalerVsHPA: the same real HSDS 0.9.4 workload (1 pod, max_task_count 10)
// and the same load step (20 -> 130 requests/s for 60 s, two pods needed), once with our scaler
// and once with a real HPA on hsds_503_rate from our adapter; it prints, for each, the failed
// requests (POSTs are never retried; GETs fail after 4 retries), the replica changes and the time
// to the needed count. Both must reach 2 replicas; ours no later than the HPA would with the
// unluckiest sync phase: the test starts the step right after an HPA sync, so the HPA's figure is
// its best case, and a real one waits up to one more sync period (ours was first in 3 of 6 runs
// here, after it in 3: 13-20 s against 4.8 s; a finding for the policy, issue 13).
//
// Both sides must start the step at 1 replica. Ours scaling up on the light load is a failure;
// the HPA (any 503 rate above 1/s scales it) did so once in CI, 10 s before the step, which left
// nothing to time: then its side runs once more in a fresh namespace, and a second early scale
// fails the test.
func TestRealSideBySideOurScalerVsHPA(t *testing.T) {
	ctx := testContext(t, 12*time.Minute)
	var results []sideResult
	for _, sd := range []side{oursSide, hpaSide, hpaRerun} {
		if sd == hpaRerun && results[len(results)-1].atStep == 1 {
			break
		}
		if !t.Run(sd.ns, func(t *testing.T) {
			results = append(results, runSide(ctx, t, sd))
		}) {
			t.Fatalf("side %s failed", sd.ns)
		}
		if r := results[len(results)-1]; r.atStep != 1 {
			// Logged here, not only in the side's subtest: a passing subtest's log is not printed
			// without -v, and this is what says why a side scaled on the light load.
			t.Logf("%s was at %d replicas when the step began (changes %v): no reaction to time; %s", r.name, r.atStep, r.changes, r.hpaStatus)
		}
	}
	for _, r := range results {
		t.Log(r)
	}
	ours, hpa := results[0], results[len(results)-1]
	for _, r := range []sideResult{ours, hpa} {
		switch {
		case r.atStep != 1:
			t.Errorf("%s scaled to %d on the light load before the step: want 1 replica at the step", r.name, r.atStep)
		case r.toNeeded == 0:
			t.Errorf("%s never reached 2 replicas", r.name)
		}
	}
	t.Logf("to 2 replicas: ours %s, the HPA %s (best sync phase; worst %s)", ours.toNeeded, hpa.toNeeded, hpa.toNeeded+hpaSyncPeriod)
	if ours.toNeeded == 0 || (hpa.toNeeded != 0 && ours.toNeeded > hpa.toNeeded+hpaSyncPeriod) {
		t.Errorf("our scaler reached 2 replicas after %s, the HPA after %s at its best sync phase: want ours no later than its worst (+%s)",
			ours.toNeeded, hpa.toNeeded, hpaSyncPeriod)
	}
}
