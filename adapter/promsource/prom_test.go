package promsource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// promTarget is one agent Prometheus scrapes, with the target labels a Kubernetes pod monitor
// would attach.
type promTarget struct{ addr, namespace, pod string }

// realProm is a Prometheus server started for one test or benchmark.
type realProm struct {
	API  promv1.API
	URL  string
	Pid  int
	logs string
}

// requireProm returns the path of the real prometheus (Debian package prometheus); CI installs
// it (.ci/run), so there a missing binary fails the test instead of skipping it.
func requireProm(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("prometheus not found on CI (Debian package prometheus): %v", err)
		}
		tb.Skipf("prometheus not found (install the Debian package prometheus): %v", err)
	}
	return p
}

// startProm runs Prometheus on a free loopback port, scraping targets (one file_sd group per
// target) every interval; it is killed by pid when the test ends.
func startProm(tb testing.TB, targets []promTarget, interval time.Duration) *realProm {
	tb.Helper()
	bin := requireProm(tb)
	dir := tb.TempDir()
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	groups := make([]group, len(targets))
	for i, t := range targets {
		groups[i] = group{Targets: []string{t.addr}, Labels: map[string]string{"namespace": t.namespace, "pod": t.pod}}
	}
	sd, err := json.Marshal(groups)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: %s, scrape_timeout: %s, evaluation_interval: 1m}
scrape_configs:
- job_name: hsds-agents
  file_sd_configs: [{files: [%q]}]
`, model.Duration(interval), model.Duration(min(interval*9/10, 10*time.Second)), filepath.Join(dir, "targets.json"))
	for name, b := range map[string][]byte{"targets.json": sd, "prometheus.yml": []byte(cfg)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	addr := freeAddr(tb)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &realProm{URL: "http://" + addr, Pid: cmd.Process.Pid, logs: logPath}
	tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = logFile.Close()
		if tb.Failed() {
			tb.Logf("--- prometheus log:\n%s", p.tail())
		}
	})
	c, err := api.NewClient(api.Config{Address: p.URL})
	if err != nil {
		tb.Fatal(err)
	}
	p.API = promv1.NewAPI(c)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := p.API.Buildinfo(context.Background()); err == nil {
			return p
		}
		if time.Now().After(deadline) {
			tb.Fatalf("prometheus not ready in 30s:\n%s", p.tail())
		}
	}
}

func (p *realProm) tail() string {
	b, _ := os.ReadFile(p.logs)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// count returns the value of count(expr) now, 0 when the result is empty.
func (p *realProm) count(ctx context.Context, expr string) (int, error) {
	v, _, err := p.API.Query(ctx, "count("+expr+")", time.Now())
	if err != nil {
		return 0, err
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) == 0 {
		return 0, nil
	}
	return int(vec[0].Value), nil
}

// waitTargets waits up to a minute until Prometheus holds hsds_agent_up == 1 of n agents.
func (p *realProm) waitTargets(tb testing.TB, n int) {
	tb.Helper()
	got, err := 0, error(nil)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got, err = p.count(context.Background(), schema.Up+" == 1"); err == nil && got == n {
			return
		}
	}
	tb.Fatalf("Prometheus scrapes %d of %d agents after a minute (%v):\n%s", got, n, err, p.tail())
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
