//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// binary is a Go program of this repository built once per test run into a temporary directory.
type binary struct {
	pkg, name string

	once sync.Once
	dir  string
	path string
	err  error
}

// get builds the binary on first use and returns its path.
func (b *binary) get(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "hsds-e2e-bin-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, b.name)
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
			return
		}
		fmt.Fprintf(os.Stderr, ">>> built %s in %s\n", b.name, time.Since(start).Round(time.Millisecond))
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func (b *binary) cleanup() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveProc is one `hsds-autoscaler serve` child process.
type serveProc struct {
	name       string
	cmd        *exec.Cmd
	logPath    string
	securePort int
	metricsURL string
	done       chan struct{} // closed when the process has exited
	waitErr    error
}

// startServe runs `hsds-autoscaler serve` against the test cluster with free ports and the given
// extra flags (namespaces, policy, leader election ...). It is stopped (SIGTERM, then SIGKILL of
// its process group) at the end of the test; on failure the tail of its log is printed.
func startServe(t *testing.T, name string, args ...string) *serveProc {
	t.Helper()
	bin := serveBin.get(t)
	dir := t.TempDir()
	logDir := dir
	if d := os.Getenv("HSDS_E2E_LOGDIR"); d != "" { // keep serve logs after the run
		logDir = d
	}
	s := &serveProc{name: name, logPath: filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log"), securePort: freePort(t), done: make(chan struct{})}
	metricsPort := freePort(t)
	s.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	base := []string{"serve",
		fmt.Sprintf("--secure-port=%d", s.securePort), "--bind-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--authentication-kubeconfig=" + cluster.Kubeconfig, "--authorization-kubeconfig=" + cluster.Kubeconfig,
		"--lister-kubeconfig=" + cluster.Kubeconfig,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		"--client-qps=50", "--client-burst=100", "-v=2",
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, append(base, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		_ = logFile.Close()
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		_ = logFile.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("--- last lines of %s (%s):\n%s", name, s.logPath, tailOf(s.logPath, 40))
		}
	})
	s.waitMetrics(t)
	return s
}

// waitMetrics waits until the metrics listener answers.
func (s *serveProc) waitMetrics(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.exited() {
			t.Fatalf("%s exited at start: %v\n%s", s.name, s.waitErr, tailOf(s.logPath, 40))
		}
		if rsp, err := http.Get(s.metricsURL); err == nil {
			_ = rsp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: metrics listener %s never answered\n%s", s.name, s.metricsURL, tailOf(s.logPath, 40))
}

func (s *serveProc) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group; stop ends it gracefully, then by force.
func (s *serveProc) signal(sig syscall.Signal) {
	if s.cmd.Process != nil && !s.exited() {
		_ = syscall.Kill(-s.cmd.Process.Pid, sig)
	}
}

func (s *serveProc) stop() {
	s.signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.signal(syscall.SIGKILL)
		<-s.done
	}
}

// kill ends the process at once (SIGKILL: no Lease release, no cleanup) and waits for it.
func (s *serveProc) kill() {
	s.signal(syscall.SIGKILL)
	<-s.done
}

// metrics scrapes the process's /metrics.
func (s *serveProc) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rsp.Body.Close() }()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rsp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", s.metricsURL, err)
	}
	return fams, nil
}

// metric sums the series of name whose labels include want (gauges and counters); ok is false
// when no series matches.
func (s *serveProc) metric(ctx context.Context, name string, want map[string]string) (float64, bool, error) {
	fams, err := s.metrics(ctx)
	if err != nil {
		return 0, false, err
	}
	sum, ok := sumSeries(fams[name], want)
	return sum, ok, nil
}

func sumSeries(mf *dto.MetricFamily, want map[string]string) (float64, bool) {
	if mf == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		found = true
		switch {
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		}
	}
	return sum, found
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// logContains reports whether the process log contains s.
func (s *serveProc) logContains(sub string) bool {
	b, err := os.ReadFile(s.logPath)
	return err == nil && bytes.Contains(b, []byte(sub))
}

// tailOf returns the last n lines of a file.
func tailOf(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	return tail(string(b), n)
}
