package heuristics

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestUniqueDemand(t *testing.T) {
	tests := []struct {
		name            string
		attempts, q, sh float64
		retries         int
		want            float64
	}{
		{"no rejections: every attempt is unique", 100, 0, 0.8, 10, 100},
		{"no traffic", 0, 0.5, 0.8, 10, 0},
		{"one retry, all retriable: 1.5 attempts each", 90, 0.5, 1, 1, 60},
		// S = (1-0.5^11)/0.5 = 1.9990234375; 0.8*S + 0.2 = 1.79921875.
		{"h5pyd defaults at q=0.5", 100, 0.5, 0.8, 10, 100 / 1.79921875},
		{"everything rejected: k+1 attempts each", 110, 1, 1, 10, 10},
		{"POST only: never retried", 100, 0.9, 0, 10, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := UniqueDemand(tc.attempts, tc.q, tc.sh, tc.retries)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("UniqueDemand = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReplicasForDemand(t *testing.T) {
	tests := []struct {
		name               string
		demand, c1, f, tgt float64
		want               int32
		wantOK             bool
	}{
		{"no fan-out: 100 / (50*0.5)", 100, 50, 0, 0.5, 4, true},
		// n >= 100*0.9 / (25 - 10) = 6; 6 pods of 50/(0.9+0.6)*0.5 = 16.67 serve exactly 100.
		{"fan-out 0.1", 100, 50, 0.1, 0.5, 6, true},
		{"beyond the cluster's ceiling c1/f", 300, 50, 0.1, 0.5, 0, false},
		{"no demand", 0, 50, 0.1, 0.5, 1, true},
		{"unknown capacity", 10, 0, 0, 0.5, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ReplicasForDemand(tc.demand, tc.c1, tc.f, tc.tgt)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ReplicasForDemand = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestReplicasForUtilization(t *testing.T) {
	tests := []struct {
		name   string
		u      float64
		n      int
		f, tgt float64
		want   int32
		wantOK bool
	}{
		{"HPA's ratio without fan-out", 0.9, 4, 0, 0.6, 6, true},
		{"scale down without fan-out", 0.15, 8, 0, 0.6, 2, true},
		// n' = 3.6*0.9 / (0.6*1.3 - 0.36) = 7.71 -> 8 (at 8: u' = 0.588; at 7: 0.633).
		{"fan-out 0.1 needs more pods", 0.9, 4, 0.1, 0.6, 8, true},
		{"unreachable", 1, 20, 0.1, 0.6, 0, false},
		{"no pods", 0.5, 0, 0, 0.6, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ReplicasForUtilization(tc.u, tc.n, tc.f, tc.tgt)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ReplicasForUtilization = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestPodCapacityAtShrinksWithDNs(t *testing.T) {
	prev := math.Inf(1)
	for n := 1; n <= 50; n++ {
		c := PodCapacityAt(100, 0.05, n)
		if c >= prev {
			t.Fatalf("capacity at %d DNs = %v, not below %v", n, c, prev)
		}
		prev = c
	}
	if got := PodCapacityAt(100, 0.05, 21); math.Abs(got-50) > 1e-9 {
		t.Errorf("PodCapacityAt(100, 0.05, 21) = %v, want 50 (divisor 0.95+1.05 = 2)", got)
	}
}

func TestMeasure(t *testing.T) {
	now := at(100)
	p := testPolicy()
	hot := podLoad{inFlight: 80, limit: 100, rate: 50, rej: ByCause{Overload: 5, NotReady: 1, Upstream: 2}}
	stale := readyPod(2, hot, now.Add(-2*time.Minute))
	waiting := readyPod(3, podLoad{inFlight: 0, limit: 100, rate: 4, rej: ByCause{NotReady: 4}}, now)
	waiting.NodeState = "WAITING"
	pending := PodSample{Name: "hsds-4", Phase: PodPending}
	stale.Fresh = false // the scaler's call: older than its sample-age limit
	snap := Snapshot{Time: now, SpecReplicas: 5, Pods: []PodSample{readyPod(0, hot, now), readyPod(1, hot, now), stale, waiting, pending}}

	got := Measure(snap, p)
	// Fresh pods: 0, 1, 3. Attempts 104; 503s 8+8+4 = 20 (overload 10, not_ready 6, upstream 4).
	// Stale: pod 2 only; the Pending pod (no node yet) has no figures but hides no load.
	want := Signals{
		Current: 5, Pods: 5, Capacity: 2, Known: 3, Stale: 1, Pending: 1, Unscheduled: 1,
		Attempts: 104, Served: 84, Overload503: 10, NotReady503: 6, Upstream503: 4,
		// Utilization net of the 2 background tasks: (80-2)/(100-2) on each capacity pod.
		RejectRatio: 20.0 / 104, Utilization: 78.0 / 98, UtilizationOK: true, UtilizationFloor: 78.0 / 98, Figured: 2,
		PodLimit: 98, Overloaded: true,
	}
	want.Offered = UniqueDemand(104, 20.0/104, p.RetriableShare, p.ClientRetries)
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("Measure (-want +got):\n%s", diff)
	}

	// A 0.9.x pod serving without a current in-flight figure adds its room to the floor, not to
	// Utilization: one figure of 78/98 among three capacity pods is at least 78/294 over all.
	partly := uniform(3, hot, now)
	for i := 1; i < 3; i++ {
		partly.Pods[i].NoInFlight, partly.Pods[i].InFlight = true, 0
	}
	if s := Measure(partly, p); math.Abs(s.Utilization-78.0/98) > 1e-12 || math.Abs(s.UtilizationFloor-78.0/294) > 1e-12 || s.Figured != 1 || s.Capacity != 3 {
		t.Errorf("one figure of three: utilization %g, floor %g, figured %d of %d; want %g, %g, 1 of 3",
			s.Utilization, s.UtilizationFloor, s.Figured, s.Capacity, 78.0/98, 78.0/294)
	}

	settling := snap
	settling.Settling = true
	if s := Measure(settling, p); s.Overloaded {
		t.Error("settling: 503s counted as overload")
	}
	notReadyOnly := uniform(3, podLoad{inFlight: 10, limit: 100, rate: 20, rej: ByCause{NotReady: 20}}, now)
	if s := Measure(notReadyOnly, p); s.Overloaded {
		t.Error("not_ready 503s counted as overload")
	}
	trickle := uniform(3, podLoad{inFlight: 10, limit: 100, rate: 1, rej: ByCause{Overload: 0.1}}, now)
	if s := Measure(trickle, p); s.Overloaded {
		t.Error("0.3 503/s cluster-wide (below overloadMinRate 0.5) counted as overload")
	}
}

// TestBackgroundTasks: the SN's own tasks (2 on HSDS 0.9.4) are no load: an idle pod is at
// utilization 0, and with max_task_count 10 four in-flight tasks (2 background, one request's 2)
// are 2/8, not 4/10 (the real-pod e2e's floor, docs/e2e.md finding 1).
func TestBackgroundTasks(t *testing.T) {
	now := at(100)
	p := testPolicy()
	for _, tc := range []struct {
		name             string
		inFlight, limit  float64
		background, want float64
	}{
		{"idle SN", 2, 10, 2, 0},
		{"one request, limit 10", 4, 10, 2, 2.0 / 8},
		{"below the background figure", 1, 10, 2, 0},
		{"no discount", 4, 10, 0, 0.4},
		{"limit not above the background: left as it is", 2, 2, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.BackgroundTasks = tc.background
			s := Measure(uniform(2, podLoad{inFlight: tc.inFlight, limit: tc.limit, rate: 5}, now), p)
			if !s.UtilizationOK || math.Abs(s.Utilization-tc.want) > 1e-12 {
				t.Errorf("utilization %g (ok %t), want %g", s.Utilization, s.UtilizationOK, tc.want)
			}
		})
	}
}

func TestCapacitySample(t *testing.T) {
	p := testPolicy()
	p.FanoutShare = 0.1
	tests := []struct {
		name   string
		s      Signals
		want   float64
		wantOK bool
	}{
		{"idle: no sample", Signals{Capacity: 4, Served: 10, Utilization: 0.2, UtilizationOK: true}, 0, false},
		// 40 req/s on 4 pods at u 0.8 -> 12.5 per pod at full use, x (0.9+0.4) = 16.25 for one DN.
		{"busy", Signals{Capacity: 4, Served: 40, Utilization: 0.8, UtilizationOK: true}, 16.25, true},
		{"overloaded: served is the capacity", Signals{Capacity: 4, Served: 40, Utilization: 0.3, UtilizationOK: true, Overloaded: true, Attempts: 50, Overload503: 10}, 13, true},
		{"no capacity pods", Signals{Served: 40, Utilization: 0.9, UtilizationOK: true}, 0, false},
		// Idle keep-alive connections hold the gate: 0.5 req/s per pod at u 0.9 of 98 tasks is
		// 176 task-seconds per request (> maxRequestTaskTime 30 s): no sample, not 0.56 x 1.3.
		{"idle keep-alive tasks", Signals{Capacity: 4, Served: 2, Utilization: 0.9, UtilizationOK: true, PodLimit: 98}, 0, false},
		// 2 req/s per pod at u 0.6 of 98: 29.4 task-seconds, inside the bound: 2/0.6 x 1.3.
		{"slow requests inside the bound", Signals{Capacity: 4, Served: 8, Utilization: 0.6, UtilizationOK: true, PodLimit: 98}, 2 / 0.6 * 1.3, true},
		// A gate jammed by requests hung on a departed DN sheds everything while serving 0.25
		// req/s per pod: 392 task-seconds per request, no capacity figure.
		{"overloaded, gate held by hung requests", Signals{Capacity: 4, Served: 1, Utilization: 1, UtilizationOK: true, PodLimit: 98, Overloaded: true, Attempts: 20, Overload503: 19}, 0, false},
		{"overloaded, served is the capacity, inside the bound", Signals{Capacity: 4, Served: 40, Utilization: 1, UtilizationOK: true, PodLimit: 98, Overloaded: true, Attempts: 50, Overload503: 10}, 13, true},
		// Overloaded by upstream 503s alone (a DN's 503s passed through): the gates do not shed,
		// served is no capacity figure; at u 0.3 (< capacityLearnUtilization) nothing is learned.
		{"overloaded by upstream 503s only", Signals{Capacity: 4, Served: 40, Utilization: 0.3, UtilizationOK: true, PodLimit: 98, Overloaded: true, Attempts: 60, Upstream503: 20}, 0, false},
	}
	for _, tc := range tests {
		got, ok := capacitySample(tc.s, tc.s.Utilization, p)
		if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: capacitySample = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestMeasure09xFigures: how Measure weighs the figures of an HSDS 0.9.x (/info) pod, whose 503
// split is an upper bound and whose in-flight figure is absent once its task sample is stale
// (docs/metrics.md, "0.9.x figures"; issue 10: such a pod serving 404s or with its DN down must
// never look overloaded).
func TestMeasure09xFigures(t *testing.T) {
	now := at(100)
	p := testPolicy()
	inexact := func(inFlight float64, noInFlight bool, rate, overload float64) PodSample {
		s := readyPod(0, podLoad{inFlight: inFlight, limit: 10, rate: rate, rej: ByCause{Overload: overload}}, now)
		s.Exact503, s.NoInFlight = false, noInFlight
		if noInFlight {
			s.InFlight = 0
		}
		return s
	}
	tests := []struct {
		name                  string
		pod                   PodSample
		wantOverload, wantUnc float64
		wantUtil              float64
		wantUtilOK, wantPress bool
	}{
		// Utilization net of the 2 background tasks: (12-2)/(10-2), (3-2)/(10-2).
		{"gate near its limit corroborates the 503s", inexact(12, false, 20, 10), 10, 0, 10.0 / 8, true, true},
		{"task sample far under the limit: no pressure", inexact(3, false, 20, 10), 0, 10, 1.0 / 8, true, false},
		{"no current task figure: no pressure, and no utilization figure while requests arrive", inexact(0, true, 20, 10), 0, 10, 0, false, false},
		{"no current task figure and no request in the window: idle, utilization 0", inexact(0, true, 0, 0), 0, 0, 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Measure(Snapshot{Time: now, SpecReplicas: 1, Pods: []PodSample{tc.pod}}, p)
			if math.Abs(s.Overload503-tc.wantOverload) > 1e-9 || math.Abs(s.Uncorroborated503-tc.wantUnc) > 1e-9 {
				t.Errorf("overload %g uncorroborated %g, want %g %g", s.Overload503, s.Uncorroborated503, tc.wantOverload, tc.wantUnc)
			}
			if want := (tc.wantOverload + tc.wantUnc) / math.Max(tc.pod.RequestRate, 1e-300); tc.pod.RequestRate > 0 && math.Abs(s.RejectRatio-want) > 1e-9 {
				t.Errorf("reject ratio %g, want %g: the clients saw every 503", s.RejectRatio, want)
			}
			if s.UtilizationOK != tc.wantUtilOK || math.Abs(s.Utilization-tc.wantUtil) > 1e-9 {
				t.Errorf("utilization %g (ok %t), want %g (ok %t)", s.Utilization, s.UtilizationOK, tc.wantUtil, tc.wantUtilOK)
			}
			if s.Overloaded != tc.wantPress {
				t.Errorf("overloaded %t, want %t", s.Overloaded, tc.wantPress)
			}
		})
	}
	exact := inexact(3, false, 20, 10)
	exact.Exact503 = true
	if s := Measure(Snapshot{Time: now, SpecReplicas: 1, Pods: []PodSample{exact}}, p); s.Overload503 != 10 {
		t.Errorf("an exact source's overload 503s are taken as they are: got %g, want 10", s.Overload503)
	}
}

// TestMeasureCountsANewPodsLoadOnce: 2 pods served 16 req/s; 10 s ago 2 new pods joined and the
// 4 now take 4 req/s each. The old pods' 30 s rates still hold 20 s of their former share (8
// req/s each: 6.67 over the window), the new pods' rates are over their own 9 s. Summed as they
// are: 13.33 + 8 = 21.33 req/s, the moved load counted twice; the cluster's requests in the
// window over the window are (2 x (160 + 40) + 2 x 36) / 30 = 15.73.
func TestMeasureCountsANewPodsLoadOnce(t *testing.T) {
	now := at(100)
	old := func(i int) PodSample {
		return readyPod(i, podLoad{inFlight: 30, limit: 100, rate: 20.0 / 3}, now)
	}
	young := func(i int) PodSample {
		pod := readyPod(i, podLoad{inFlight: 30, limit: 100, rate: 4}, now)
		pod.Started, pod.Window = now.Add(-10*time.Second), 9*time.Second
		return pod
	}
	snap := Snapshot{Time: now, SpecReplicas: 4, Pods: []PodSample{old(0), old(1), young(2), young(3)}}
	if got, want := Measure(snap, testPolicy()).Attempts, (2*(160+40)+2*36)/30.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("attempts %.3f req/s, want %.3f (summed as they are: %.3f)", got, want, 2*20.0/3+2*4)
	}
	// A pod that started long ago but whose rates span less (missed scrapes) keeps its rate: it
	// served over the whole window.
	gap := old(2)
	gap.Window = 9 * time.Second
	snap.Pods = []PodSample{old(0), old(1), gap}
	if got, want := Measure(snap, testPolicy()).Attempts, 3*20.0/3; math.Abs(got-want) > 1e-9 {
		t.Errorf("attempts %.3f req/s with a gap in one old pod's scrapes, want %.3f", got, want)
	}
	// Every pod new (a cold start): the longest span is the window, nothing is counted twice.
	snap.Pods = []PodSample{young(0), young(1)}
	if got, want := Measure(snap, testPolicy()).Attempts, 8.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("attempts %.3f req/s on new pods only, want %.3f", got, want)
	}
}
