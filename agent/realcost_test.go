package agent

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

// BenchmarkRealProxyCost measures what the counting proxy costs in front of a real HSDS 0.9.4 SN,
// side by side in one run: 8 keep-alive clients send domain GETs (one SN->DN round trip each)
// straight to the SN and, in alternating rounds of the same length, through hsds-agent --source
// proxy running as its own process. CPU comes from /proc/<pid>/stat (utime+stime) of the SN and of
// the agent, not from wall time. It reports
//
//   - proxy-cpu-share: the agent's CPU per proxied request / the SN's CPU per request (goal <= 0.10);
//
//   - added-p50-us: median latency through the proxy minus median latency direct (goal <= 1000);
//
//   - and both medians, the SN's and the agent's CPU per request in microseconds.
//
//     go test -run '^$' -bench BenchmarkRealProxyCost -benchtime 1x ./agent/
func BenchmarkRealProxyCost(b *testing.B) {
	c := realhsds.Start(b, realhsds.Options{Pods: 1})
	pod := c.Pods[0]
	ctx := context.Background()
	if err := realhsds.CreateDomain(ctx, pod.SN.URL()); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "hsds-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hsds-autoscaler/hsds-autoscaler/cmd/hsds-agent").CombinedOutput(); err != nil {
		b.Fatalf("build hsds-agent: %v\n%s", err, out)
	}
	proxyPort, metricsPort := realhsds.FreePort(b), realhsds.FreePort(b)
	agentCmd := exec.Command(bin, "--source", "proxy", "--sn-url", pod.SN.URL(), "--dn-url", pod.DN.URL(),
		"--listen", "127.0.0.1:"+strconv.Itoa(metricsPort), "--proxy-listen", "127.0.0.1:"+strconv.Itoa(proxyPort))
	if err := agentCmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = agentCmd.Process.Signal(syscall.SIGTERM); _ = agentCmd.Wait() })
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(proxyPort)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, code, err := realhsds.Do(ctx, http.MethodGet, domainURL(proxyURL), nil, false); err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the proxy does not serve")
		}
	}
	snPID, agentPID := pod.SN.PID(), agentCmd.Process.Pid
	const round = 5 * time.Second
	type side struct {
		requests      int
		snCPU, agCPU  time.Duration
		medians       []time.Duration
		nonOK         int
		name, baseURL string
	}
	direct := &side{name: "direct", baseURL: pod.SN.URL()}
	proxied := &side{name: "proxy", baseURL: proxyURL}
	b.ResetTimer()
	for range b.N {
		for _, s := range []*side{direct, proxied, direct, proxied} {
			sn0, ag0 := realhsds.CPU(b, snPID), realhsds.CPU(b, agentPID)
			out := realhsds.Run(ctx, realhsds.Load{URL: domainURL(s.baseURL), Clients: 8, Duration: round, KeepAlive: true})
			s.snCPU += realhsds.CPU(b, snPID) - sn0
			s.agCPU += realhsds.CPU(b, agentPID) - ag0
			s.requests += out.Total()
			s.nonOK += out.Total() - out.Codes[http.StatusOK]
			s.medians = append(s.medians, out.Median[http.StatusOK])
		}
	}
	b.StopTimer()
	if direct.nonOK+proxied.nonOK > 0 {
		b.Fatalf("not every request was served: direct %d, proxy %d non-200", direct.nonOK, proxied.nonOK)
	}
	per := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }
	snPer := per(direct.snCPU, direct.requests)
	agPer := per(proxied.agCPU, proxied.requests)
	snPerProxied := per(proxied.snCPU, proxied.requests)
	dMed, pMed := realhsds.Median(direct.medians), realhsds.Median(proxied.medians)
	b.ReportMetric(agPer/snPer, "proxy-cpu-share")
	b.ReportMetric(float64((pMed - dMed).Microseconds()), "added-p50-us")
	b.ReportMetric(float64(dMed.Microseconds()), "direct-p50-us")
	b.ReportMetric(float64(pMed.Microseconds()), "proxy-p50-us")
	b.ReportMetric(snPer, "sn-cpu-us/req")
	b.ReportMetric(agPer, "proxy-cpu-us/req")
	b.Logf("direct: %d req, SN %.0f us CPU/req, p50 %v; proxy: %d req, SN %.0f us CPU/req, agent %.0f us CPU/req, p50 %v",
		direct.requests, snPer, dMed, proxied.requests, snPerProxied, agPer, pMed)
}
