package realhsds

import (
	"context"
	"net/http"
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
