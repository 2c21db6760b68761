package agent

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

// benchServiceTime is the fake HSDS's fixed task time in BenchmarkProxyOverhead.
const benchServiceTime = time.Millisecond

// BenchmarkProxyOverhead compares requests sent straight to a fake HSDS SN with the same requests
// sent through the counting proxy, on loopback, 2 and 8 concurrent clients (SetParallelism on 2 CPUs),
// one-task requests with a fixed 1 ms service time and the gate disabled (no 503s). It reports
// throughput (req/s) and median latency (p50-us) of each.
//
//	go test -run '^$' -bench BenchmarkProxyOverhead -benchtime 3s -count 3 ./agent/
func BenchmarkProxyOverhead(b *testing.B) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount = 0 // gate off: measure the proxy, not the gate
	cfg.ServiceTime = fakehsds.Fixed(benchServiceTime)
	_, snURL, dnURL := startFake(b, cfg)
	_, _, proxyURL := startProxy(b, snURL, dnURL, ProxyConfig{MaxIdleConns: 64}, clock.RealClock{})
	for _, par := range []int{1, 4} {
		for _, tc := range []struct{ name, base string }{{"direct", snURL}, {"proxy", proxyURL}} {
			name := fmt.Sprintf("clients=%d/%s", 2*par, tc.name)
			b.Run(name, func(b *testing.B) { benchGet(b, tc.base+"/groups/g1", par) })
		}
	}
}

func benchGet(b *testing.B, url string, parallelism int) {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(parallelism)
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t := time.Now()
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			local = append(local, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	// CPU time of the whole test process (clients, fake HSDS, proxy) per request: unlike wall
	// time, barely moved by other load on the machine; proxy minus direct is the proxy's cost.
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-us/req")
}

// processCPU returns the user+system CPU time of this process.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkParseMetrics(b *testing.B) {
	body := readFixture(b, "metrics_sn.txt")
	for b.Loop() {
		if _, err := parseMetrics(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInfo(b *testing.B) {
	body := readFixture(b, "info_sn.json")
	for b.Loop() {
		if _, err := parseInfo(body); err != nil {
			b.Fatal(err)
		}
	}
}
