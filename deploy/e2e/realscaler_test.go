//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// Real-HSDS load model (measured on one real 0.9.4 pod, max_task_count 10, 2 shared cores): an
// idle SN holds 2 tasks of its own and each request 2 (connection and handler), so the agent's
// in-flight figure (req_count.num_tasks at the last gated request) is never below 4 while requests
// arrive; one pod served 40-80 requests/s of the mix below without a 503 and shed 2-3 % at 120-160.
const (
	realMaxTaskCount = 10
	realLight        = 20.0  // requests/s: no 503, utilization 0.4 (the floor)
	realOverload     = 130.0 // requests/s: one pod sheds, two mostly do not
)

// realPolicy is the e2e test policy (policyFile) for real pods: podCapacity pinned to one pod's
// measured figure (not learned, so the sizing is the same in every run), at most 3 pods,
// scaleDownUtilization 0.45 above the 0.4 floor of in-flight/limit on 0.9.4 (see realMaxTaskCount),
// guards.settle 20 s (the one settle time: no change, and no 503 read as overload, for 20 s after
// a change), dwellUp and dwellDown 30 s. After a scale-down the remaining SNs' requests to the
// departed DN hang until HSDS's client timeout and hold the task gate shut: 28-32 s of 503s that the
// agents rightly call overload, with in-flight above the limit. The settle time keeps those 503s
// out of overload; before it also held every change (when the policy had a settleTime of its own
// beside a 3 s guard) the scaler flapped 3 -> 2 -> 3 after 3.3 s, with dwellUp 20 s after 20.3 s
// (docs/e2e.md, "Real pods").
// realSettle is the real-pod policy's guards.settle.
const realSettle = 20 * time.Second

func realPolicy(t *testing.T, ns string, policy, guards map[string]any) string {
	t.Helper()
	p := map[string]any{"maxReplicas": 3, "podCapacity": 120, "scaleDownUtilization": 0.45, "dwellUp": "30s", "dwellDown": "30s"}
	for k, v := range policy {
		p[k] = v
	}
	g := map[string]any{"settle": realSettle.String()}
	for k, v := range guards {
		g[k] = v
	}
	return policyFile(t, ns, p, g)
}

// realWorkload is a Deployment of real HSDS pods with domains to read, the agents watched.
type realWorkload struct {
	*workload
	domains []loadgen.HSDSDomain
	agents  *agentWatch
}

// newRealWorkload starts a real-mode kubelet (names starting with prefix, pods on cidr), the hsds
// Deployment with replicas pods, waits until they converge and creates the domains.
func newRealWorkload(ctx context.Context, t *testing.T, ns, prefix, cidr string, replicas int32, edit func(*fakekubelet.Config)) *realWorkload {
	t.Helper()
	requireRealKubelet(t)
	createNamespace(ctx, t, ns)
	if _, _, err := cluster.KubectlInput(ctx, nil, "apply", "-n", ns, "-f", filepath.Join(repoRoot(t), "deploy/examples/hsds/rbac.yaml")); err != nil {
		t.Fatal(err)
	}
	k := startRealKubeletWith(ctx, t, ns, prefix, func(c *fakekubelet.Config) {
		c.Real.CIDR, c.Real.MaxTaskCount = cidr, realMaxTaskCount
		if edit != nil {
			edit(c)
		}
	})
	createRealDeployment(ctx, t, ns, replicas)
	pods := waitConverged(ctx, t, k, int(replicas))
	w := &realWorkload{workload: &workload{ns: ns, kubelet: k}}
	w.domains = createDomains(ctx, t, pods[0].SNURL)
	w.agents = watchAgents(t, k)
	return w
}

// decisionLines returns serve's "Scaling decision" log lines that changed something.
func decisionLines(s *serveProc) []string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, "Scaling decision") && strings.Contains(l, "acted=true") {
			out = append(out, l)
		}
	}
	return out
}

// awaitDecision waits (up to 10 s) until serve has logged the acting decision that made c and
// returns the acting decision lines then. serve writes first and logs (and counts, in
// hsds_scaler_decisions_total) after, so a test whose watch has just seen c reads the log and the
// metrics too early without it. A change no decision line accounts for is an error: serve is the
// only writer in these tests.
func awaitDecision(ctx context.Context, t *testing.T, s *serveProc, c change) []string {
	t.Helper()
	made := fmt.Sprintf("current=%d desired=%d ", c.from, c.to) // the space: desired=2 is not desired=20
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := decisionLines(s)
		for _, l := range lines {
			if strings.Contains(l, made) {
				return lines
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Errorf("no acting decision %q logged for the change %s", made, c)
			return lines
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	figuresRE = regexp.MustCompile(`503 overload ([0-9.]+)/s not_ready ([0-9.]+)/s`)
	utilRE    = regexp.MustCompile(`utilization ([0-9.]+) on`)
)

// rescaleFigures returns the reason of a Rescaled Event message ("scaled from A to B (...):
// reason: ...") and the overload and not_ready 503 rates and the utilization its decision saw.
func rescaleFigures(msg string) (reason string, overload, notReady, util float64) {
	if _, rest, ok := strings.Cut(msg, "): "); ok {
		reason, _, _ = strings.Cut(rest, ":")
	}
	if m := figuresRE.FindStringSubmatch(msg); m != nil {
		overload, _ = strconv.ParseFloat(m[1], 64)
		notReady, _ = strconv.ParseFloat(m[2], 64)
	}
	if m := utilRE.FindStringSubmatch(msg); m != nil {
		util, _ = strconv.ParseFloat(m[1], 64)
	}
	return reason, overload, notReady, util
}

// downSettle is TestRealScalerOverloadUpThenDown's guards.settle: longer than a scale-down's gate
// jam (28-32 s: TestRealRescaleCostMatchesPreset). With realSettle (20 s) the scaler read the
// jam's last seconds as overload and went back 2 -> 3 30.8 s after the scale-down (logged FLAP).
const downSettle = 40 * time.Second

// TestRealScalerOverloadUpThenDown: one real HSDS 0.9.4 pod under real requests; (a) overload: our
// scaler scales up on the gate's signals (overload 503s, or the task sample at the limit) with no
// not_ready 503 in its figures, the new pod's 503s are exported as not_ready, no overload decision
// falls within guards.settle of a change, and the count does not change again during the rescale;
// (b) the load drops: it scales down once, with no second scale-down and no change within
// guards.settle (downSettle, longer than the jam) while the errors of that change last (a later
// scale-up is logged as FLAP).
func TestRealScalerOverloadUpThenDown(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	const ns = "e2e-real-scaler"
	w := newRealWorkload(ctx, t, ns, "hsdsu", "10.77.21.0/24", 1, nil)
	logRescalesOnFailure(t, ns)
	l := startRealLoad(t, w.kubelet, w.domains, realLight)
	s := startServe(t, "serve", serveArgs(ns, realPolicy(t, ns, nil, map[string]any{"settle": downSettle.String()}))...)
	rec := w.record(t)
	t0 := time.Now()
	// A start settles like a change: the step comes 5 s before the start-up settle ends, so the
	// first decision allowed reads the overload (after the settle, the light load alone held one
	// pod near scaleUpUtilization, and a step just after it met a decision on the light load's
	// figures; 10 s after the start, the scale-up waited 32 s for the settle).
	time.Sleep(downSettle - 5*time.Second)

	// (a) overload
	over := rec.arm()
	l.set(realOverload)
	up := rec.waitChange(ctx, t, over, 60*time.Second, "a scale-up under overload")
	if up.to <= up.from {
		t.Fatalf("first change %d -> %d, want up", up.from, up.to)
	}
	shedBefore := w.agents.delta("503/overload", over, up.at)
	w.waitAtLeast(ctx, t, int(up.to))
	time.Sleep(25 * time.Second) // the rescale's 500s and not-READY 503s, same load
	rescaleEnd := time.Now()
	changes, _ := rec.snapshot()
	rescales, err := events(ctx, ns, "Rescaled")
	if err != nil {
		t.Fatal(err)
	}
	inRescale := l.between(up.at, rescaleEnd)
	t.Logf("(a) overload %g req/s at t+%.0fs; scaled %d -> %d at t+%.1fs (%.1fs later); agents' overload 503s before it: %g",
		realOverload, over.Sub(t0).Seconds(), up.from, up.to, up.at.Sub(t0).Seconds(), up.at.Sub(over).Seconds(), shedBefore)
	t.Logf("(a) clients, per second around the scale-up (t = 0 at the start of serve):\n%s", l.perSecond(t0, over.Add(-3*time.Second), rescaleEnd))
	t.Logf("(a) agents:\n%s", w.agents.perSecond(t0, over.Add(-3*time.Second), rescaleEnd))
	t.Logf("(a) rescale window (%.0fs after the change): clients %s; agents %s",
		rescaleEnd.Sub(up.at).Seconds(), formatCodes(codes(inRescale)), w.agents.deltas(up.at, rescaleEnd))
	if len(rescales) == 0 {
		t.Fatal("no Rescaled Event")
	}
	// What the scaler saw when it decided: the gate shedding (overload 503s, or the task sample
	// at or above the limit, which is what makes the gate shed), no not-READY 503s.
	if reason, over, notReady, util := rescaleFigures(rescales[0]); !slices.Contains([]string{"overload", "panic", "utilization-up"}, reason) ||
		(over <= 0 && util < 1) || notReady != 0 {
		t.Errorf("first Rescaled Event %q: want reason overload, panic or utilization-up with overload 503s or utilization >= 1, and no not_ready 503s", rescales[0])
	}
	for _, c := range changes[1:] {
		t.Errorf("replicas changed again during the rescale, the load unchanged: %s (changes %v)", c, changes)
	}
	// The new pod's 503s while it was WAITING reached the scaler as not_ready, never as overload.
	if nr := w.agents.delta("503/not_ready", up.at, rescaleEnd); nr <= 0 {
		t.Logf("no not_ready 503 exported during the rescale (the new pod went READY before a request reached it)")
	}

	// (b) the load drops. From 2 pods the policy never goes to 1 (in-flight/limit never falls below
	// 0.4 while requests arrive, proportional ceil(0.4 x 2 / 0.6) = 2), so (b) starts from 3.
	if cur, _ := w.replicas(ctx); cur < 3 {
		scaleTo(ctx, t, ns, 3)
		waitConverged(ctx, t, w.kubelet, 3)
		t.Logf("(b) scaled to 3 by the test (the scaler stopped at %d)", cur)
	}
	drop := time.Now()
	l.set(realLight)
	down := rec.waitChange(ctx, t, drop, 90*time.Second, "a scale-down after the load dropped")
	if down.to >= down.from {
		t.Fatalf("change after the drop %d -> %d, want down", down.from, down.to)
	}
	time.Sleep(20 * time.Second) // every 503 of this window is the rescale's
	end, served := l.waitServed(ctx, 60*time.Second)
	if !served {
		t.Logf("clients not served again %.0fs after the scale-down", end.Sub(down.at).Seconds())
	}
	after := l.between(down.at, end)
	t.Logf("(b) load %g req/s at t+%.0fs; scaled %d -> %d at t+%.1fs (%.1fs later)", realLight, drop.Sub(t0).Seconds(), down.from, down.to,
		down.at.Sub(t0).Seconds(), down.at.Sub(drop).Seconds())
	t.Logf("(b) clients, per second around the scale-down:\n%s", l.perSecond(t0, down.at.Add(-3*time.Second), end))
	t.Logf("(b) agents:\n%s", w.agents.perSecond(t0, down.at.Add(-3*time.Second), end))
	t.Logf("(b) after the scale-down, until clients were served again (%.0fs): clients %s; agents %s; last client 500 at %s",
		end.Sub(down.at).Seconds(), formatCodes(codes(after)), w.agents.deltas(down.at, end), lastCode(after, 500, down.at))
	changes, _ = rec.snapshot()
	for _, c := range changes {
		switch {
		case !c.at.After(down.at):
		case c.to < c.from || c.at.Sub(down.at) < downSettle:
			t.Errorf("replicas changed again while the errors of the scale-down lasted: %s (changes %v)", c, changes)
		default:
			t.Logf("FLAP: %s, %.1fs after the scale-down, the SNs' gates still held shut by the departed DN", c, c.at.Sub(down.at).Seconds())
		}
	}
	t.Logf("replica changes: %v; dropped arrivals: %d", changes, l.dropped())
	lines := awaitDecision(ctx, t, s, changes[len(changes)-1])
	t.Logf("serve's acting decisions:\n%s", strings.Join(lines, "\n"))
	t.Logf("decisions by reason: %v", decisionReasons(ctx, t, s))
	for _, e := range overloadWhileSettling(lines, changes, downSettle) {
		t.Error(e)
	}
}

// overloadWhileSettling lists serve's acting decisions with reason overload within settle of a
// replica change: the rescale's own 503s must never count as overload. The decision that made a
// change is not one of them: serve logs it after its write, so the test's watch may see the
// change first (by 2.4 ms in a CI run where the first scale-up was an overload step).
func overloadWhileSettling(lines []string, changes []change, settle time.Duration) []string {
	var out []string
	for _, line := range lines {
		if !strings.Contains(line, `reason="overload"`) {
			continue
		}
		at, err := time.ParseInLocation("15:04:05.000000", strings.Fields(line)[1], time.Local)
		if err != nil {
			continue
		}
		for _, c := range changes {
			d := clockOf(c.at).Sub(at)
			made := fmt.Sprintf("current=%d desired=%d ", c.from, c.to) // the space: desired=2 is not desired=20
			if -d < time.Second && strings.Contains(line, made) && strings.Contains(line, "acted=true") {
				continue // the decision that made c
			}
			if d < 0 && -d < settle {
				out = append(out, fmt.Sprintf("overload decision %s after the change %s, within guards.settle: %s", -d, c, line))
			}
		}
	}
	return out
}

// TestOverloadWhileSettling: the check passes over the decision that made a change, logged just
// after it, and catches an overload decision of the same step size later within settle.
func TestOverloadWhileSettling(t *testing.T) {
	day := func(clock string) time.Time {
		at, err := time.ParseInLocation("15:04:05.000", clock, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	line := func(clock, cur, des string) string {
		return `I1205 ` + clock + `   31237 actions.go:203] "Scaling decision" target="Deployment e2e-real-scaler/hsds" current=` + cur +
			` desired=` + des + ` ready=1 pending=0 reason="overload" guards=null acted=true dryRun=false recommended=2 message="overload 503s"`
	}
	changes := []change{{at: day("19:26:08.660"), from: 1, to: 2}}
	if got := overloadWhileSettling([]string{line("19:26:08.662742", "1", "2")}, changes, 20*time.Second); len(got) != 0 {
		t.Errorf("the decision that made the change was flagged: %v", got)
	}
	if got := overloadWhileSettling([]string{line("19:26:15.000000", "2", "3")}, changes, 20*time.Second); len(got) != 1 {
		t.Errorf("an overload decision 6.3 s after the change: %d flagged, want 1", len(got))
	}
	if got := overloadWhileSettling([]string{line("19:26:10.000000", "1", "2")}, changes, 20*time.Second); len(got) != 1 {
		t.Errorf("an acting 1 -> 2 overload decision 1.3 s after the change: %d flagged, want 1", len(got))
	}
}

// clockOf is t's wall-clock time of day (klog lines carry no date).
func clockOf(t time.Time) time.Time {
	at, _ := time.ParseInLocation("15:04:05.000000", t.Format("15:04:05.000000"), time.Local)
	return at
}

// lastCode says when (relative to ref) the last attempt with code ended, or "none".
func lastCode(as []attempt, code int, ref time.Time) string {
	var last time.Time
	for _, a := range as {
		if a.code == code && a.at.After(last) {
			last = a.at
		}
	}
	if last.IsZero() {
		return "none"
	}
	return "+" + last.Sub(ref).Round(100*time.Millisecond).String()
}
