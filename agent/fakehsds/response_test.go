package fakehsds

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// docs/hsds.md: "The 503 has body `503: Service Unavailable` and no Retry-After header"; "A 503 from
// the gate carries Content-Type: text/plain; charset=utf-8 and the 24-byte body". HSDS raises
// aiohttp's HTTPServiceUnavailable for every cause, so all three look the same on the wire.
func Test503_BodyAndHeadersOnTheWire(t *testing.T) {
	// Limit 2: a held request (1) + the client's connection (1) + its handler (1) is above it.
	p, clk := newTestPod(t, func(c *Config) { c.MaxTaskCount = 2 })
	snURL, _ := serveForTest(t, p)
	held := inflight(p.SN(), "GET", "/groups/g1")
	waitTasks(t, p, 1)
	client := newClient(t)
	get := func(target string) *http.Response {
		t.Helper()
		rsp, err := client.Get(snURL + target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		return rsp
	}
	check := func(cause string, rsp *http.Response) {
		t.Helper()
		body := drain(t, rsp)
		if rsp.StatusCode != http.StatusServiceUnavailable || string(body) != "503: Service Unavailable" || len(body) != 24 {
			t.Errorf("%s: status %d body %q (%d bytes), want 503 and the 24-byte body", cause, rsp.StatusCode, body, len(body))
		}
		if got := rsp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", cause, got)
		}
		if _, ok := rsp.Header["Retry-After"]; ok {
			t.Errorf("%s: has a Retry-After header", cause)
		}
	}
	check(schema.CauseOverload, get("/groups/g1"))
	clk.Step(DefaultServiceTime)
	<-held
	waitTasks(t, p, 1) // the client's keep-alive connection

	mustSetState(t, p, "dn", schema.StateWaiting)
	check(schema.CauseUpstream, get("/datasets/d1/value"))
	mustSetState(t, p, "sn", schema.StateTerminating)
	check(schema.CauseNotReady, get("/datasets/d1/value"))

	want := map[string]int64{schema.CauseOverload: 1, schema.CauseUpstream: 1, schema.CauseNotReady: 1}
	if diff := cmp.Diff(want, p.Truth().Rejected); diff != "" {
		t.Errorf("Truth.Rejected (-want +got):\n%s", diff)
	}
}

// docs/hsds.md "What HSDS exposes": GET /info on 5101 and 6101 (never 503, no auth) with
// node.{id,type,state,node_count,node_number,start_time}, req_count, log_stats and host-level
// cpu/memory; GET /about with state, node_count, dn_urls, dn_ids, hsds_version. Shapes follow
// hsds/basenode.py info() and about(): node_number is set on DN nodes only.
func TestInfoAndAbout_Golden(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.DNCount = 2; c.InitialState = schema.StateWaiting })
	do(p.SN(), "GET", "/groups/g1") // not READY: WARN 1, not counted
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"info-sn.json", p.SN(), "/info"},
		{"info-dn.json", p.DN(), "/info"},
		{"about-sn.json", p.SN(), "/about"},
	} {
		rec := do(tc.h, "GET", tc.path)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s: status %d content type %q", tc.path, rec.Code, rec.Header().Get("Content-Type"))
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
			t.Fatalf("%s: not JSON: %v", tc.name, err)
		}
		golden(t, tc.name, pretty.Bytes())
	}
}

// JSON types as HSDS emits them (Python ints and floats, strings), checked on the decoded JSON so
// a consumer decoding into float64/string/int sees the same as from HSDS.
func TestInfo_FieldTypes(t *testing.T) {
	p, _ := newTestPod(t, nil)
	var got map[string]map[string]any
	if err := json.Unmarshal(do(p.DN(), "GET", "/info").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"node":      {"id": "string", "type": "string", "state": "string", "node_count": "number", "node_number": "number", "start_time": "number"},
		"req_count": {"GET": "number", "POST": "number", "PUT": "number", "DELETE": "number", "num_tasks": "number"},
		"log_stats": {"INFO": "number", "DEBUG": "number", "WARN": "number", "ERROR": "number"},
		"cpu":       {"percent": "number", "cores": "number"},
		"memory":    {"phys_total": "number", "phys_available": "number", "percent": "number"},
	}
	for obj, fields := range want {
		for f, typ := range fields {
			v, ok := got[obj][f]
			if !ok {
				t.Errorf("%s.%s missing", obj, f)
				continue
			}
			if gotTyp := jsonType(v); gotTyp != typ {
				t.Errorf("%s.%s is a %s, want %s", obj, f, gotTyp, typ)
			}
		}
	}
	if got["node"]["start_time"] != float64(epoch.Unix()) {
		t.Errorf("node.start_time = %v, want %d", got["node"]["start_time"], epoch.Unix())
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	default:
		return "other"
	}
}
