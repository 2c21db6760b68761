package agent

import (
	"bytes"
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// gaugeNames are the series a failed read must drop.
var gaugeNames = []string{schema.InFlight, schema.InFlightLimit, schema.NodeCount, schema.NodeState}

type sourceKind struct {
	name string
	path string
	good []byte
	make func(f *Fetcher, sn string) (Poller, *Store)
}

func sourceKinds(t *testing.T) []sourceKind {
	return []sourceKind{
		{
			name: schema.SourceInfo, path: "/info", good: readFixture(t, "info_sn.json"),
			make: func(f *Fetcher, sn string) (Poller, *Store) {
				return NewInfoSource(f, sn, "", InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, fakeClock())
			},
		},
		{
			name: schema.SourceMetrics, path: "/metrics", good: readFixture(t, "metrics_sn.txt"),
			make: func(f *Fetcher, sn string) (Poller, *Store) {
				return NewMetricsSource(f, sn, "", fakeClock())
			},
		},
	}
}

// TestBadInput: after a good read, each kind of bad answer gives up=0, one error under the right
// reason, no gauge series, and counters that keep their last good cumulative values.
func TestBadInput(t *testing.T) {
	scenarios := []struct {
		name   string
		reason string
		setup  func(fx *fixture, path string)
	}{
		{"garbage", ReadErrorParse, func(fx *fixture, p string) { fx.set(p, []byte("\x00\x01<html>garbage")) }},
		{"truncated", ReadErrorParse, func(fx *fixture, p string) { fx.set(p, truncate(fx, p)) }},
		{"huge", ReadErrorTooLarge, func(fx *fixture, p string) { fx.set(p, bytes.Repeat([]byte("#"), 70<<10)) }},
		{"NaN", ReadErrorInvalid, func(fx *fixture, p string) { fx.set(p, nanBody(p)) }}, // parse for /info
		{"negative", ReadErrorInvalid, func(fx *fixture, p string) { fx.set(p, negativeBody(p)) }},
		{"HTTP 500", ReadErrorStatus, func(fx *fixture, p string) { fx.setCode(p, 500) }},
		{"slow", ReadErrorTimeout, func(fx *fixture, _ string) { fx.setDelay(2 * time.Second) }},
		{"down", ReadErrorConnect, func(fx *fixture, _ string) { fx.srv.Close() }},
	}
	for _, kind := range sourceKinds(t) {
		for _, sc := range scenarios {
			t.Run(kind.name+"/"+sc.name, func(t *testing.T) {
				fx := newFixture(t, map[string][]byte{kind.path: kind.good, "/about": aboutBody})
				p, st := kind.make(NewFetcher(100*time.Millisecond, 64<<10), fx.url())
				p.Poll(context.Background())
				good := series(t, st)
				if good[schema.Up+"{}"] != 1 {
					t.Fatalf("first read not up: %v", good)
				}
				sc.setup(fx, kind.path)
				p.Poll(context.Background())
				got := series(t, st)
				reason := sc.reason
				if sc.name == "NaN" && kind.name == schema.SourceInfo {
					reason = ReadErrorParse // JSON has no NaN: the decoder rejects the token
				}
				assertFailedRead(t, good, got, reason)
			})
		}
	}
}

func assertFailedRead(t *testing.T, good, got map[string]float64, reason string) {
	t.Helper()
	if v := got[schema.Up+"{}"]; v != 0 {
		t.Errorf("up = %g, want 0", v)
	}
	for _, r := range ReadErrorReasons() {
		want := 0.0
		if r == reason {
			want = 1
		}
		if v := got[schema.ScrapeErrors+`{reason="`+r+`"}`]; v != want {
			t.Errorf("errors{reason=%s} = %g, want %g", r, v, want)
		}
	}
	for s := range got {
		for _, g := range gaugeNames {
			if strings.HasPrefix(s, g+"{") {
				t.Errorf("gauge %s exported after a failed read", s)
			}
		}
	}
	wantResp := maps.Clone(good)
	maps.DeleteFunc(wantResp, func(k string, _ float64) bool { return !strings.HasPrefix(k, schema.Responses) })
	gotResp := maps.Clone(got)
	maps.DeleteFunc(gotResp, func(k string, _ float64) bool { return !strings.HasPrefix(k, schema.Responses) })
	if diff := cmp.Diff(wantResp, gotResp); diff != "" {
		t.Errorf("counters changed by a failed read (-want +got):\n%s", diff)
	}
}

func truncate(fx *fixture, path string) []byte {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	b := fx.bodies[path]
	if path == "/metrics" {
		return []byte("hsds_node_ready 1\nhsds_tasks_active{method=")
	}
	return b[:len(b)/2]
}

func nanBody(path string) []byte {
	if path == "/metrics" {
		return []byte("hsds_node_ready 1\nhsds_tasks_active NaN\n")
	}
	// JSON has no NaN; Python's json.dumps writes one anyway and it must not pass.
	return []byte(`{"node":{"state":"READY","node_count":NaN}}`)
}

func negativeBody(path string) []byte {
	if path == "/metrics" {
		return []byte("hsds_node_ready 1\nhsds_tasks_active -1\n")
	}
	return []byte(`{"node":{"state":"READY","node_count":-1},"req_count":{"GET":1,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`)
}

// TestNanInfoIsParseError documents that the info source counts a NaN body as parse (the JSON
// decoder rejects it), the metrics source as invalid.
func TestNanInfoIsParseError(t *testing.T) {
	if _, err := parseInfo(nanBody("/info")); ReadErrorOf(err) != ReadErrorParse {
		t.Errorf("reason %q, want parse", ReadErrorOf(err))
	}
}

// TestDNFailureKeepsUp: a failed DN read drops only the DN state and counts an error.
func TestDNFailureKeepsUp(t *testing.T) {
	sn := newFixture(t, map[string][]byte{"/info": readFixture(t, "info_sn.json"), "/about": aboutBody})
	dn := newFixture(t, map[string][]byte{"/info": readFixture(t, "info_dn.json")})
	p, st := NewInfoSource(NewFetcher(time.Second, 1<<20), sn.url(), dn.url(), InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, fakeClock())
	p.Poll(context.Background())
	if got := series(t, st)[schema.NodeState+`{node="dn",state="READY"}`]; got != 1 {
		t.Fatalf("dn READY = %g, want 1", got)
	}
	dn.setCode("/info", 500)
	p.Poll(context.Background())
	got := series(t, st)
	if got[schema.Up+"{}"] != 1 || got[schema.ScrapeErrors+`{reason="status"}`] != 1 {
		t.Errorf("up=%g errors{status}=%g, want 1 and 1", got[schema.Up+"{}"], got[schema.ScrapeErrors+`{reason="status"}`])
	}
	if _, ok := got[schema.NodeState+`{node="dn",state="READY"}`]; ok {
		t.Errorf("dn state exported after a failed DN read")
	}
	if got[schema.NodeState+`{node="sn",state="READY"}`] != 1 {
		t.Errorf("sn state lost after a failed DN read")
	}
}

// TestInfoSourceCounts: deltas of req_count and WARN become responses, overload only around a
// task sample above the limit; a restart re-bases; the version comes from /about; in-flight is
// the sample while a request arrived within the max age, absent after.
func TestInfoSourceCounts(t *testing.T) {
	info := func(reqs, warn, tasks int) []byte {
		return []byte(strings.NewReplacer("$R", strconv.Itoa(reqs), "$W", strconv.Itoa(warn), "$T", strconv.Itoa(tasks)).Replace(
			`{"node":{"state":"READY","node_count":2},"req_count":{"GET":$R,"POST":0,"PUT":0,"DELETE":0,"num_tasks":$T},"log_stats":{"WARN":$W}}`))
	}
	fx := newFixture(t, map[string][]byte{"/info": info(100, 10, 9), "/about": aboutBody})
	clk := fakeClock()
	p, st := NewInfoSource(NewFetcher(time.Second, 1<<20), fx.url(), "", InfoConfig{Limit: 50, InFlightMaxAge: time.Second, GateHold: time.Second}, clk)
	steps := []struct {
		reqs, warn, tasks  int
		wantOther, want503 float64
		inFlight           float64 // -1: absent
	}{
		{100, 10, 9, 0, 0, -1},    // first read: series at 0, no arrival seen yet
		{160, 15, 9, 60, 0, 9},    // 5 WARNs, tasks under the limit: 404s or 500s, not 503s
		{260, 95, 60, 80, 80, 60}, // over-limit sample: min(80 WARN, 100 req) = 80 overload, 20 other
		{20, 2, 4, 100, 80, 4},    // restart: counts since it, all other (the evidence is forgotten)
		{20, 2, 4, 100, 80, 4},    // idle 1 s: the sample is 1 s old, still exported
		{20, 2, 4, 100, 80, -1},   // idle 2 s: no in-flight
	}
	for i, s := range steps {
		fx.set("/info", info(s.reqs, s.warn, s.tasks))
		p.Poll(context.Background())
		got := series(t, st)
		if got[schema.Responses+`{cause="",code="other"}`] != s.wantOther ||
			got[schema.Responses+`{cause="overload",code="503"}`] != s.want503 {
			t.Errorf("step %d: other=%g 503=%g, want %g %g", i, got[schema.Responses+`{cause="",code="other"}`],
				got[schema.Responses+`{cause="overload",code="503"}`], s.wantOther, s.want503)
		}
		inf, ok := got[schema.InFlight+"{}"]
		if (s.inFlight < 0) == ok || (ok && inf != s.inFlight) {
			t.Errorf("step %d: in-flight %g (exported %t), want %g", i, inf, ok, s.inFlight)
		}
		if got[schema.InFlightLimit+"{}"] != 50 || got[schema.NodeCount+"{}"] != 2 ||
			got[schema.Info+`{exact="false",source="info",version="0.9.4"}`] != 1 {
			t.Errorf("step %d: gauges %v", i, got)
		}
		clk.Step(time.Second)
	}
}
