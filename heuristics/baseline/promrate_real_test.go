package baseline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRateMatchesRealPrometheus: the emulated rate()[2m] (rangeRate) against the real Prometheus
// (the Debian package CI installs) on the same samples: the samples are backfilled into a TSDB
// with `promtool tsdb create-blocks-from openmetrics`, a real `prometheus` serves them, and
// `rate(x_total[2m])` is queried every 17 s. Debian's Prometheus is 2.x,
// whose rate() differs from the 3.x one transcribed here in two places only: a sample exactly
// at the range's start is inside the range (2.x: closed range), and the counter's zero point caps
// the start's extrapolation before the 1.1-interval rule, not after. The cases avoid both (no
// sample on a range start, counters far from zero), so the two must agree; everything else —
// extrapolation at both edges, the 1.1x threshold, a counter reset, a missed scrape — is
// exercised.
func TestRateMatchesRealPrometheus(t *testing.T) {
	promBin, err1 := exec.LookPath("prometheus")
	promtool, err2 := exec.LookPath("promtool")
	if err1 != nil || err2 != nil {
		t.Fatalf("the real Prometheus is needed (Debian package prometheus; .ci/run installs it): %v %v", err1, err2)
	}
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	type series struct {
		name    string
		samples []promSample
	}
	mk := func(name string, n int, at func(i int) (float64, bool)) series {
		s := series{name: name}
		for i := range n {
			v, ok := at(i)
			if ok {
				s.samples = append(s.samples, promSample{t: base.Add(time.Duration(13+30*i) * time.Second), v: v})
			}
		}
		return s
	}
	cases := []series{
		mk("steady", 40, func(i int) (float64, bool) { return 1e6 + 7.3*30*float64(i), true }),
		mk("reset", 40, func(i int) (float64, bool) {
			if i < 20 {
				return 5e5 + 11*30*float64(i), true
			}
			return 4e5 + 11*30*float64(i-20), true // the counter went back: a restart
		}),
		mk("gaps", 40, func(i int) (float64, bool) { return 2e6 + 90*float64(i) + 40*float64(i%3), i%5 != 2 }),
	}
	dir := t.TempDir()
	var om strings.Builder
	om.WriteString("# HELP x Test counter.\n# TYPE x counter\n")
	for _, c := range cases {
		for _, s := range c.samples {
			fmt.Fprintf(&om, "x_total{case=%q} %s %d\n", c.name, strconv.FormatFloat(s.v, 'g', -1, 64), s.t.Unix())
		}
	}
	om.WriteString("# EOF\n")
	omFile := filepath.Join(dir, "samples.om")
	if err := os.WriteFile(omFile, []byte(om.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tsdb := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", omFile, tsdb).CombinedOutput(); err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, promBin, "--config.file="+cfg, "--storage.tsdb.path="+tsdb,
		"--storage.tsdb.retention.time=10y", "--web.listen-address="+addr)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	waitReady(t, "http://"+addr+"/-/ready", &logs)

	checked := 0
	for _, c := range cases {
		for k := 0; k < 60; k++ {
			now := base.Add(2*time.Minute + time.Duration(7+17*k)*time.Second)
			if now.Add(-2*time.Minute).Sub(base)%(30*time.Second) == 13*time.Second {
				continue // a sample on the range's start: 2.x and 3.x differ there by design
			}
			want, ok := rangeRate(c.samples, now, 2*time.Minute)
			got, gotOK := queryRate(t, addr, c.name, now)
			if ok != gotOK {
				t.Fatalf("%s at +%s: emulation has a value %t, Prometheus %t", c.name, now.Sub(base), ok, gotOK)
			}
			if ok && math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(got)) {
				t.Errorf("%s at +%s: emulated rate %.12g, Prometheus %.12g", c.name, now.Sub(base), want, got)
			}
			checked++
		}
	}
	t.Logf("%d instants of 3 series checked against %s", checked, promBin)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func waitReady(t *testing.T, u string, logs *strings.Builder) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("prometheus not ready:\n%s", logs.String())
}

// queryRate asks Prometheus for rate(x_total{case=name}[2m]) at now; false when the result is
// empty.
func queryRate(t *testing.T, addr, name string, now time.Time) (float64, bool) {
	t.Helper()
	q := url.Values{"query": {fmt.Sprintf(`rate(x_total{case=%q}[2m])`, name)}, "time": {strconv.FormatInt(now.Unix(), 10)}}
	resp, err := http.Get("http://" + addr + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]json.RawMessage `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query: %v %s", err, r.Status)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	var s string
	if err := json.Unmarshal(r.Data.Result[0].Value[1], &s); err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}
