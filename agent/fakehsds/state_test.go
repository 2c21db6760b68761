package fakehsds

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// docs/hsds.md "Where 503 comes from": any node whose state is not READY answers 503 to everything
// except /about, /info, /register, /nodeinfo, /nodestate; 1.x serves /metrics also when not
// READY. The fake's /fake/ endpoints are never gated. /register, /nodeinfo and /nodestate are
// head-node routes, so SN and DN answer them 404 (not 503).
func TestNotReady_503ExceptExemptPaths(t *testing.T) {
	paths := []struct {
		method, path string
		sn, dn       int // status when not READY
	}{
		{"GET", "/about", 200, 200},
		{"GET", "/info", 200, 200},
		{"GET", "/register", 404, 404},
		{"POST", "/nodeinfo", 404, 404},
		{"GET", "/nodestate", 404, 404},
		{"GET", "/metrics", 200, 200},
		{"GET", "/fake/truth", 200, 503}, // the DN has no control endpoints: a gated path there
		{"GET", "/", 503, 503},
		{"GET", "/datasets/d1/value", 503, 503},
		{"POST", "/groups", 503, 503},
		{"DELETE", "/groups/g1", 503, 503},
	}
	for _, state := range []string{schema.StateWaiting, schema.StateTerminating} {
		p, _ := newTestPod(t, func(c *Config) { c.InitialState = state })
		for _, tc := range paths {
			if got := do(p.SN(), tc.method, tc.path).Code; got != tc.sn {
				t.Errorf("%s SN %s %s: status %d, want %d", state, tc.method, tc.path, got, tc.sn)
			}
			if got := do(p.DN(), tc.method, tc.path).Code; got != tc.dn {
				t.Errorf("%s DN %s %s: status %d, want %d", state, tc.method, tc.path, got, tc.dn)
			}
		}
		want := map[string]int64{schema.CauseNotReady: 4}
		if diff := cmp.Diff(want, p.Truth().Rejected); diff != "" {
			t.Errorf("%s: Truth.Rejected (-want +got):\n%s", state, diff)
		}
	}
}

// docs/hsds.md: "DN 503s (not ready, chunk cache full of dirty data) ... pass through the SN to the
// client: count client-facing 503s at the SN only". The SN is READY, so the cause is upstream.
func TestUpstream_DN503PassesThroughSN(t *testing.T) {
	tests := []struct {
		name    string
		dnState string
		target  string
		dnWarn  int64
	}{
		{"DN not READY", schema.StateWaiting, "/datasets/d1/value", 1},
		{"DN answers 503 (?fail=upstream)", schema.StateReady, "/datasets/d1/value?fail=upstream", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newTestPod(t, nil)
			mustSetState(t, p, "dn", tc.dnState)
			rec := do(p.SN(), "GET", tc.target)
			if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "503: Service Unavailable" {
				t.Fatalf("status %d body %q, want HSDS's 503", rec.Code, rec.Body.String())
			}
			got := p.Truth()
			want := Truth{
				Requests:    map[string]int64{"503": 1},
				Rejected:    map[string]int64{schema.CauseUpstream: 1},
				TasksActive: 0,
				State:       schema.StateReady,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Truth (-want +got):\n%s", diff)
			}
			sn, dn := infoOf(t, p.SN()), infoOf(t, p.DN())
			if sn.ReqCount.Get != 1 || sn.LogStats.Warn != 1 {
				t.Errorf("SN req_count.GET=%d WARN=%d, want 1 and 1 (admitted; httpUtil warns on the DN 503)",
					sn.ReqCount.Get, sn.LogStats.Warn)
			}
			if dn.LogStats.Warn != tc.dnWarn {
				t.Errorf("DN WARN=%d, want %d", dn.LogStats.Warn, tc.dnWarn)
			}
			p.mu.Lock()
			dnTasks := p.dn.tasks
			p.mu.Unlock()
			if dnTasks != 0 {
				t.Errorf("DN tasks = %d after the request, want 0", dnTasks)
			}
		})
	}
}

// docs/hsds.md "Node states" and issue 423: a node can stay WAITING after a restart until the stuck
// container is restarted; scaling does not fix it.
func TestStickyWaiting_UntilRestart(t *testing.T) {
	p, clk := newTestPod(t, func(c *Config) { c.StickyWaiting = true })
	before := infoOf(t, p.SN())
	mustSetState(t, p, "sn", schema.StateWaiting)
	if err := p.SetState("sn", schema.StateReady); !errors.Is(err, ErrStuckWaiting) {
		t.Fatalf("SetState READY while stuck: err %v, want ErrStuckWaiting", err)
	}
	p.SetDNCount(2) // a rescale and its settle do not unstick it
	clk.Step(DefaultRescaleSettle + time.Second)
	if got := p.Truth().State; got != schema.StateWaiting {
		t.Fatalf("after rescale settle: SN %s, want WAITING", got)
	}
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("stuck SN: status %d, want 503", got)
	}
	p.Restart()
	if got := p.Truth().State; got != schema.StateWaiting {
		t.Errorf("right after Restart: SN %s, want WAITING for the settle", got)
	}
	clk.Step(DefaultRescaleSettle)
	testwait.For(t, "SN READY after restart", func() bool { return p.Truth().State == schema.StateReady })
	after := infoOf(t, p.SN())
	if after.Node.ID == before.Node.ID || after.LogStats.Warn != 0 || after.ReqCount != (reqCount{}) {
		t.Errorf("after Restart: id %q (was %q), WARN %d, req_count %+v: want a new id and zero counters",
			after.Node.ID, before.Node.ID, after.LogStats.Warn, after.ReqCount)
	}
	if got := p.Truth().Rejected[schema.CauseNotReady]; got != 1 {
		t.Errorf("Truth survives Restart: not_ready = %d, want 1", got)
	}
}

// docs/hsds.md "Node states": on 1.0.1+ every rescale gives roughly one health-check interval (~10 s)
// of cluster-wide 503s while the roster converges.
func TestRescale_SettleThenReady(t *testing.T) {
	p, clk := newTestPod(t, nil)
	p.SetDNCount(3)
	for _, h := range []http.Handler{p.SN(), p.DN()} {
		in := infoOf(t, h)
		if in.Node.State != schema.StateWaiting || in.Node.NodeCount != 3 {
			t.Fatalf("%s right after rescale: state %s node_count %d, want WAITING 3",
				in.Node.Type, in.Node.State, in.Node.NodeCount)
		}
	}
	clk.Step(DefaultRescaleSettle / 2)
	p.SetDNCount(4) // a second change restarts the settle; the first timer is stale
	clk.Step(DefaultRescaleSettle/2 + time.Millisecond)
	if got := p.Truth().State; got != schema.StateWaiting {
		t.Fatalf("10s after the first rescale, 5s after the second: SN %s, want WAITING", got)
	}
	clk.Step(DefaultRescaleSettle / 2)
	testwait.For(t, "READY after settle", func() bool { return p.Truth().State == schema.StateReady })
	if got := infoOf(t, p.DN()).Node.State; got != schema.StateReady {
		t.Errorf("DN after settle: %s, want READY", got)
	}

	q, _ := newTestPod(t, func(c *Config) { c.RescaleSettle = 0 })
	q.SetDNCount(2)
	if got := q.Truth().State; got != schema.StateReady {
		t.Errorf("RescaleSettle 0: SN %s right after rescale, want READY", got)
	}
	q.SetDNCount(0) // refused
	if got := infoOf(t, q.SN()).Node.NodeCount; got != 2 {
		t.Errorf("SetDNCount(0): node_count %d, want 2 kept", got)
	}
}

func TestSetState_BadInput(t *testing.T) {
	p, _ := newTestPod(t, nil)
	for _, tc := range []struct{ node, state string }{{"xx", "READY"}, {"sn", "SCALING"}, {"dn", ""}} {
		if err := p.SetState(tc.node, tc.state); err == nil {
			t.Errorf("SetState(%q, %q): no error", tc.node, tc.state)
		}
	}
	if got := p.Truth().State; got != schema.StateReady {
		t.Errorf("state after bad input: %s, want READY kept", got)
	}
}
