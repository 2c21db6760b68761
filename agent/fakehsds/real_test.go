package fakehsds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

// shape flattens a decoded JSON value into "path: type" lines (object keys sorted), so two
// documents compare by key sets, nesting and JSON value types, not by values.
func shape(prefix string, v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		*out = append(*out, prefix+": object")
		for k, e := range x {
			shape(prefix+"."+k, e, out)
		}
	case []any:
		*out = append(*out, fmt.Sprintf("%s: array", prefix))
		for _, e := range x {
			shape(prefix+"[]", e, out)
		}
	case float64:
		kind := "number"
		*out = append(*out, prefix+": "+kind)
	case string:
		*out = append(*out, prefix+": string")
	case bool:
		*out = append(*out, prefix+": bool")
	case nil:
		*out = append(*out, prefix+": null")
	}
}

// fetched is one response as the client saw it.
type fetched struct {
	code    int
	header  http.Header
	body    []byte
	decoded map[string]any
}

func fetch(ctx context.Context, t *testing.T, url string) fetched {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	f := fetched{code: rsp.StatusCode, header: rsp.Header, body: drain(t, rsp)}
	if strings.HasPrefix(rsp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(f.body, &f.decoded); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return f
}

func shapeOf(f fetched) []string {
	var s []string
	shape("", f.decoded, &s)
	sort.Strings(s)
	return slices.Compact(s)
}

// headerSet is the response's header names and values, without Date (a clock).
func headerSet(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if k != "Date" {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}

func num(f fetched, keys ...string) float64 {
	var v any = f.decoded
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	x, _ := v.(float64)
	return x
}

// realSide and fakeSide hold the two SN/DN pairs the field-by-field test compares.
type side struct{ name, sn, dn string }

// TestInfoAbout_MatchRealHSDS starts a real HSDS 0.9.4 SN/DN pair (head-node mode, limit 10) and
// the fake configured as Measured094 with the same limit, sends both the same requests and
// compares what they answer:
//   - /info and /about of SN and DN: the same key sets, nesting and JSON value types
//     (real-hsds README "`/info` and `/about` are never gated"; hsds/basenode.py info(), about());
//   - /about hsds_version "0.9.4", node_count 1 and one DN on both;
//   - headers of /info, of a 404 and of a gate 503 (Date aside), byte-identical bodies of the
//     404 and the 503 (docs/hsds.md: "A 503 from the gate carries Content-Type: text/plain;
//     charset=utf-8 and the 24-byte body");
//   - req_count.num_tasks after one GET on a new connection: 4 on both (docs/hsds.md, measured: "The
//     SN has 2 background asyncio tasks of its own"; + the connection + the request), and
//     frozen while only /info is read (docs/hsds.md: "sampled at the last gated request and then
//     frozen");
//   - log_stats.WARN: +2 per 404 (docs/hsds.md: "an ordinary 404 logs 1-2 WARNs"; measured 2 for a
//     missing domain), +1 per gate 503 (hsds_logger.request), req_count.GET counts the 503s too.
func TestInfoAbout_MatchRealHSDS(t *testing.T) {
	c := realhsds.Start(t, realhsds.Options{Pods: 1, MaxTaskCount: calLimit})
	cfg := Measured094()
	cfg.MaxTaskCount = calLimit
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fsn, fdn := serveForTest(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sides := []side{{"real", c.Pods[0].SN.URL(), c.Pods[0].DN.URL()}, {"fake", fsn, fdn}}
	type seen struct {
		infoDN, aboutSN, aboutDN, info1, info2, infoAfter404, infoAfterBurst, notFound, gate503 fetched
		burst                                                                                   realhsds.Outcome
	}
	got := map[string]*seen{}
	for _, s := range sides {
		if err := realhsds.CreateDomain(ctx, s.sn); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		g := &seen{}
		if f := fetch(ctx, t, s.sn+"/?domain="+realhsds.Domain); f.code != http.StatusOK {
			t.Fatalf("%s: domain GET %d", s.name, f.code)
		}
		g.info1 = fetch(ctx, t, s.sn+"/info")
		g.info2 = fetch(ctx, t, s.sn+"/info")
		g.infoDN = fetch(ctx, t, s.dn+"/info")
		g.aboutSN = fetch(ctx, t, s.sn+"/about")
		g.aboutDN = fetch(ctx, t, s.dn+"/about")
		g.notFound = fetch(ctx, t, s.sn+"/?domain=/does/not/exist")
		fetch(ctx, t, s.sn+"/?domain=/does/not/exist")
		g.infoAfter404 = fetch(ctx, t, s.sn+"/info")
		g.burst = realhsds.Run(ctx, realhsds.Load{URL: s.sn + "/?domain=" + realhsds.Domain, Clients: 40, Requests: 80})
		g.infoAfterBurst = fetch(ctx, t, s.sn+"/info")
		for range 60 { // one more gate 503 on the wire: 40 idle connections hold the gate shut
			conns := dialIdle(t, s.sn, calLimit)
			f := fetch(ctx, t, s.sn+"/?domain="+realhsds.Domain)
			for _, c := range conns {
				_ = c.Close()
			}
			if f.code == http.StatusServiceUnavailable {
				g.gate503 = f
				break
			}
		}
		got[s.name] = g
	}
	r, f := got["real"], got["fake"]

	for _, pair := range []struct {
		what       string
		real, fake fetched
	}{
		{"SN /info", r.info1, f.info1}, {"DN /info", r.infoDN, f.infoDN},
		{"SN /about", r.aboutSN, f.aboutSN}, {"DN /about", r.aboutDN, f.aboutDN},
	} {
		if diff := cmp.Diff(shapeOf(pair.real), shapeOf(pair.fake)); diff != "" {
			t.Errorf("%s: keys and types differ (-real +fake):\n%s", pair.what, diff)
		}
		if diff := cmp.Diff(headerSet(pair.real.header), headerSet(pair.fake.header), cmp.FilterPath(func(p cmp.Path) bool {
			return strings.Contains(p.GoString(), `"Content-Length"`)
		}, cmp.Ignore())); diff != "" {
			t.Errorf("%s: headers differ (-real +fake):\n%s", pair.what, diff)
		}
	}
	for _, pair := range []struct {
		what       string
		real, fake fetched
	}{{"404", r.notFound, f.notFound}, {"gate 503", r.gate503, f.gate503}} {
		if pair.real.code != pair.fake.code || string(pair.real.body) != string(pair.fake.body) {
			t.Errorf("%s: real %d %q, fake %d %q", pair.what, pair.real.code, pair.real.body, pair.fake.code, pair.fake.body)
		}
		if diff := cmp.Diff(headerSet(pair.real.header), headerSet(pair.fake.header)); diff != "" {
			t.Errorf("%s: headers differ (-real +fake):\n%s", pair.what, diff)
		}
	}
	for _, s := range []struct {
		name string
		g    *seen
	}{{"real", r}, {"fake", f}} {
		g := s.g
		if v, _ := g.aboutSN.decoded["hsds_version"].(string); v != "0.9.4" || num(g.aboutSN, "node_count") != 1 {
			t.Errorf("%s /about: hsds_version %q node_count %v", s.name, v, num(g.aboutSN, "node_count"))
		}
		if n := num(g.info1, "req_count", "num_tasks"); n != 4 || num(g.info2, "req_count", "num_tasks") != n {
			t.Errorf("%s: num_tasks after one GET %v then %v: want 4, frozen", s.name, n, num(g.info2, "req_count", "num_tasks"))
		}
		if d := num(g.infoAfter404, "log_stats", "WARN") - num(g.info1, "log_stats", "WARN"); d != 4 {
			t.Errorf("%s: WARN +%v for two 404s, want +4", s.name, d)
		}
		n503 := float64(g.burst.Codes[http.StatusServiceUnavailable])
		if d := num(g.infoAfterBurst, "log_stats", "WARN") - num(g.infoAfter404, "log_stats", "WARN"); d != n503 {
			t.Errorf("%s: WARN +%v over a burst with %v gate 503s, want one each", s.name, d, n503)
		}
		if d := num(g.infoAfterBurst, "req_count", "GET") - num(g.infoAfter404, "req_count", "GET"); d != float64(g.burst.Total()) {
			t.Errorf("%s: req_count.GET +%v over a burst of %d, want every request (503s included)", s.name, d, g.burst.Total())
		}
		if g.gate503.code != http.StatusServiceUnavailable {
			t.Errorf("%s: no gate 503 with %d idle connections", s.name, calLimit)
		}
		t.Logf("%s: num_tasks after one GET %v; burst %v; WARN/503 1; gate 503 headers %v", s.name,
			num(g.info1, "req_count", "num_tasks"), g.burst.Codes, headerSet(g.gate503.header))
	}
}
