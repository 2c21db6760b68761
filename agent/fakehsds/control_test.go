package fakehsds

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// The fake's control endpoints (not HSDS): never gated, never counted in Truth.
func TestControlEndpoints(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.StickyWaiting = true; c.RescaleSettle = 0 })
	steps := []struct {
		method, target string
		wantCode       int
		wantState      string
	}{
		{"PUT", "/fake/state?node=sn&state=WAITING", 200, schema.StateWaiting},
		{"PUT", "/fake/state?node=sn&state=READY", 409, schema.StateWaiting},
		{"PUT", "/fake/state?node=xx&state=READY", 400, schema.StateWaiting},
		{"GET", "/fake/state?node=sn&state=READY", 405, schema.StateWaiting},
		{"POST", "/fake/restart", 200, schema.StateReady},
		{"PUT", "/fake/dncount?n=3", 200, schema.StateReady},
		{"PUT", "/fake/dncount?n=0", 400, schema.StateReady},
		{"PUT", "/fake/dncount?n=x", 400, schema.StateReady},
		{"GET", "/fake/truth", 200, schema.StateReady},
		{"GET", "/fake/nope", 404, schema.StateReady},
	}
	for _, s := range steps {
		rec := do(p.SN(), s.method, s.target)
		if rec.Code != s.wantCode {
			t.Errorf("%s %s: status %d, want %d (%s)", s.method, s.target, rec.Code, s.wantCode, rec.Body)
		}
		if got := p.Truth().State; got != s.wantState {
			t.Errorf("%s %s: SN state %s, want %s", s.method, s.target, got, s.wantState)
		}
	}
	var tr Truth
	if err := json.Unmarshal(do(p.SN(), "GET", "/fake/truth").Body.Bytes(), &tr); err != nil {
		t.Fatalf("decode /fake/truth: %v", err)
	}
	if len(tr.Requests) != 0 || tr.State != schema.StateReady {
		t.Errorf("/fake/truth = %+v: want no counted requests and READY", tr)
	}
	if got := infoOf(t, p.SN()).Node.NodeCount; got != 3 {
		t.Errorf("node_count after /fake/dncount?n=3: %d", got)
	}
	if got := do(p.DN(), "GET", "/fake/truth").Code; got != http.StatusOK {
		t.Errorf("DN has no control endpoints; a READY DN serves the path as data: %d", got)
	}
}
