package collector_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// agentsEnv, when set to N, makes the test binary serve N fake agents instead of running tests:
// the benchmark runs them in a child process so that only the collector's CPU and memory are
// measured. The child prints one address per line and exits when its stdin closes.
const agentsEnv = "HSDS_ADAPTER_BENCH_AGENTS"

func TestMain(m *testing.M) {
	if n := os.Getenv(agentsEnv); n != "" {
		serveAgents(n)
		return
	}
	os.Exit(m.Run())
}

// loopback returns the i-th address of 127.0.1.1 .. 127.0.x.250.
func loopback(i int) string { return fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250) }

func serveAgents(nStr string) {
	n, err := strconv.Atoi(nStr)
	if err != nil {
		os.Exit(2)
	}
	st := fakeagent.Default()
	st.OK, st.InFlight = 123456, 37
	st.Other = map[string]float64{"201": 4567, "204": 89, "400": 12, "404": 345}
	st.Rejected = map[string]float64{schema.CauseOverload: 789, schema.CauseNotReady: 12, schema.CauseUpstream: 3}
	agent := fakeagent.New(st)
	w := bufio.NewWriter(os.Stdout)
	for i := range n {
		l, err := net.Listen("tcp", loopback(i)+":0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "listen: %v\n", err)
			os.Exit(3)
		}
		go func() { _ = http.Serve(l, agent) }()
		fmt.Fprintln(w, l.Addr().String())
	}
	_ = w.Flush()
	_, _ = io.Copy(io.Discard, os.Stdin) // parent closed the pipe: exit
}

// startAgents runs n fake agents in a child process and returns their addresses.
func startAgents(b *testing.B, n int) []string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", agentsEnv, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	addrs := make([]string, 0, n)
	for len(addrs) < n && sc.Scan() {
		addrs = append(addrs, sc.Text())
	}
	if len(addrs) != n {
		b.Fatalf("child started %d of %d agents: %v", len(addrs), n, sc.Err())
	}
	return addrs
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatusKB reads a field (VmRSS, VmHWM) of /proc/self/status in KiB.
func procStatusKB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	return -1
}

func benchmarkRound(b *testing.B, n int) {
	runtime.GC()
	baseRSS := procStatusKB("VmRSS") / 1024
	addrs := startAgents(b, n)
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})
	for i, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		st.UpsertPod(store.PodMeta{Namespace: "hsds", Name: fmt.Sprintf("hsds-%d", i), UID: types.UID(strconv.Itoa(i)),
			Phase: heuristics.PodRunning, Labels: map[string]string{"app": "hsds"}, IP: host, Port: p})
	}
	m, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	client := collector.NewHTTPClient(time.Second)
	b.Cleanup(client.CloseIdleConnections)
	c := &collector.Collector{Sink: st, Clock: clock.RealClock{}, Workers: 64, Path: "/metrics", Metrics: m,
		Scraper: &collector.Scraper{Client: client, Timeout: time.Second, MaxBodyBytes: 1 << 20}}
	c.Round(context.Background()) // open the keep-alive connections, as in steady state
	errsBefore := errorCount(m)
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	for b.Loop() {
		c.Round(context.Background())
	}
	b.StopTimer()
	rounds := float64(b.N)
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/rounds, "cpu-ms/round")
	b.ReportMetric(float64(time.Since(wall0).Milliseconds())/rounds, "wall-ms/round")
	b.ReportMetric(procStatusKB("VmRSS")/1024, "rss-MiB")
	b.ReportMetric(baseRSS, "base-rss-MiB")
	b.ReportMetric(procStatusKB("VmHWM")/1024, "peak-rss-MiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	b.ReportMetric(float64(ms.StackInuse)/(1<<20), "stack-MiB")
	// Errors are reported, not fatal: on a loaded shared machine a few 1 s timeouts happen.
	b.ReportMetric((errorCount(m)-errsBefore)/rounds, "errors/round")
}

func errorCount(m *collector.Metrics) float64 {
	total := 0.0
	for _, r := range []string{collector.ScrapeErrorTimeout, collector.ScrapeErrorConnect, collector.ScrapeErrorStatus, collector.ScrapeErrorParse, collector.ScrapeErrorInvalid} {
		total += testutil.ToFloat64(m.ScrapeErrors.WithLabelValues(r))
	}
	return total
}

func BenchmarkRound1000(b *testing.B) { benchmarkRound(b, 1000) }
func BenchmarkRound5000(b *testing.B) { benchmarkRound(b, 5000) }
