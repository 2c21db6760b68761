package agent

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases builds each source against fixtures, drives it, and returns its store.
func goldenCases(t *testing.T) map[string]func(t *testing.T) *Store {
	f := func() *Fetcher { return NewFetcher(time.Second, 1<<20) }
	return map[string]func(t *testing.T) *Store{
		"metrics": func(t *testing.T) *Store {
			sn := newFixture(t, map[string][]byte{"/metrics": readFixture(t, "metrics_sn.txt")})
			dn := newFixture(t, map[string][]byte{"/metrics": readFixture(t, "metrics_dn.txt")})
			p, st := NewMetricsSource(f(), sn.url(), dn.url(), fakeClock())
			p.Poll(context.Background())
			next := strings.NewReplacer(`status="503"} 9.0`, `status="503"} 19.0`, "hsds_tasks_active 37.0", "hsds_tasks_active 100",
				`status="200"} 100.0`, `status="200"} 150.0`).Replace(string(readFixture(t, "metrics_sn.txt")))
			sn.set("/metrics", []byte(next))
			p.Poll(context.Background())
			return st
		},
		"info": func(t *testing.T) *Store {
			body := readFixture(t, "info_sn.json")
			sn := newFixture(t, map[string][]byte{"/info": body, "/about": aboutBody})
			dn := newFixture(t, map[string][]byte{"/info": readFixture(t, "info_dn.json")})
			p, st := NewInfoSource(f(), sn.url(), dn.url(), InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, fakeClock())
			p.Poll(context.Background())
			sn.set("/info", []byte(strings.NewReplacer(`"GET": 100`, `"GET": 160`, `"WARN": 7`, `"WARN": 12`).Replace(string(body))))
			p.Poll(context.Background())
			return st
		},
		"proxy": func(t *testing.T) *Store {
			sn := newStubSN(t)
			u, err := url.Parse(sn.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			cfg := ProxyConfig{Target: u}
			src, st := NewProxySource(f(), sn.srv.URL, "", InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, cfg, fakeClock())
			src.Poll(context.Background())
			e := &proxyEnv{sn: sn, src: src, store: st, front: newFront(t, src)}
			for _, p := range []string{"/a", "/b", "/busy"} {
				e.get(t, p)
			}
			src.Poll(context.Background()) // settles /busy's 503: the gate was never busy, upstream
			return st
		},
		"down": func(t *testing.T) *Store {
			sn := newFixture(t, map[string][]byte{})
			sn.srv.Close()
			p, st := NewInfoSource(f(), sn.url(), "", InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, fakeClock())
			p.Poll(context.Background())
			return st
		},
	}
}

// TestGoldenExposition diffs the whole exporter's output per source against testdata/*.prom.
// Run with -update to rewrite them.
func TestGoldenExposition(t *testing.T) {
	for name, build := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			got := exposition(t, registryFor(t, build(t)))
			path := filepath.Join("testdata", "golden_"+name+".prom")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("exposition (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPromtoolCheckMetrics lints every golden file with promtool (Debian package prometheus).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found and $CI is set: %v", err)
		}
		t.Skipf("promtool not found: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden_*.prom"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != promtoolLintExit) {
			t.Errorf("promtool check metrics %s: %v\n%s", f, err, out)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !knownLint[line] {
				t.Errorf("promtool check metrics %s: %s", f, line)
			}
		}
	}
}

// promtoolLintExit is promtool's exit code for lint findings (1 is a parse failure).
const promtoolLintExit = 3

// knownLint are promtool findings accepted on purpose (none today: any finding fails the test).
var knownLint = map[string]bool{}

// TestGoldenNamesAreSchema: every name in the golden files is one of agent/schema.
func TestGoldenNamesAreSchema(t *testing.T) {
	allowed := map[string]bool{}
	for _, n := range schemaNames() {
		allowed[n] = true
	}
	for name, build := range goldenCases(t) {
		for n := range names(t, build(t)) {
			if !allowed[n] {
				t.Errorf("%s exports %s, not in agent/schema", name, n)
			}
		}
	}
}

// schemaNames are the names every source's collector exports. The agent's registry adds
// schema.BuildInfo (TestAgentExportsBuildInfo).
func schemaNames() []string {
	return []string{schema.Responses, schema.InFlight, schema.InFlightLimit, schema.NodeState,
		schema.NodeCount, schema.Up, schema.ScrapeDuration, schema.ScrapeErrors, schema.Info}
}

// TestAgentExportsBuildInfo: the agent's /metrics carries its build (internal/version) beside the
// source's names.
func TestAgentExportsBuildInfo(t *testing.T) {
	o := NewOptions()
	o.Source, o.SNURL, o.DNURL = schema.SourceInfo, "http://127.0.0.1:1", ""
	a, err := New(*o, fakeClock())
	if err != nil {
		t.Fatal(err)
	}
	v := version.Get()
	want := fmt.Sprintf(`# HELP %s Always 1: the version, source revision and Go version hsds-agent was built from.
# TYPE %[1]s gauge
%[1]s{goversion=%q,revision=%q,version=%q} 1
`, schema.BuildInfo, v.GoVersion, v.Revision, v.Version)
	if err := testutil.GatherAndCompare(a.Registry, strings.NewReader(want), schema.BuildInfo); err != nil {
		t.Error(err)
	}
}
