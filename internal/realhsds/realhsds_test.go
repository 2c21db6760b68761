package realhsds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestClusterServesAndGates: the harness brings up a real one-pod cluster that serves a domain GET
// (200) and, with max_task_count 10, rejects most of a 60-concurrent burst with 503 (real-hsds
// README: "300 domain GETs at 60 concurrent gave ~95 % 503s").
func TestClusterServesAndGates(t *testing.T) {
	c := Start(t, Options{Pods: 1, MaxTaskCount: 10})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sn := c.Pods[0].SN.URL()
	if err := CreateDomain(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if _, code, err := Do(ctx, http.MethodGet, sn+"/?domain="+Domain, nil, false); err != nil || code != http.StatusOK {
		t.Fatalf("domain GET: %d %v", code, err)
	}
	out := Run(ctx, Load{URL: sn + "/?domain=" + Domain, Clients: 60, Requests: 300})
	t.Logf("burst: %v, medians %v", out.Codes, out.Median)
	if out.Total() != 300 || out.Codes[http.StatusServiceUnavailable] < 200 {
		t.Fatalf("want >= 200 of 300 503s, got %v", out.Codes)
	}
}

// TestStartNoticesATakenPort: once on CI another package's fake HSDS took a port between
// freePort and the real SN's bind, answered /info as a READY SN, and the test then got HTTP 405
// from the fake. A real SN whose port is taken exits; the start reports that (and Start tries
// again on new ports) instead of taking the stand-in's answers as the SN's.
func TestStartNoticesATakenPort(t *testing.T) {
	dir := Require(t)
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"node": {"id": "sn-standin", "type": "sn", "state": "READY", "node_count": 1}}`)
	}))
	defer standIn.Close()
	taken := standIn.Listener.Addr().(*net.TCPAddr).Port
	picks := 0
	c := &Cluster{Root: t.TempDir(), opts: Options{Pods: 1, MaxTaskCount: 100}, dir: dir,
		pick: func(t testing.TB) int {
			picks++
			if picks == 2 { // head, SN, DN: the SN's port
				return taken
			}
			return freePort(t)
		}}
	defer c.Stop()
	err := c.start(t)
	if !errors.Is(err, errNodeDied) {
		t.Fatalf("start with the SN's port taken: %v, want an error naming the dead SN\n%s", err, c.Logs())
	}
	t.Logf("start: %v", err)
	if c.Pods[0].SN.Running() {
		t.Fatalf("the SN is running on a taken port")
	}
}
