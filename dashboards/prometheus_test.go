package dashboards

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"go.yaml.in/yaml/v3"
)

// lockedBuffer collects a child process's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// prometheusConfig renders a configuration scraping every target each second.
func prometheusConfig(ruleFile string, targets []scrapeTarget) ([]byte, error) {
	var scrapes []map[string]any
	for i, tg := range targets {
		scrapes = append(scrapes, map[string]any{
			"job_name": fmt.Sprintf("%s-%d", tg.Job, i),
			"static_configs": []map[string]any{{"targets": []string{tg.Addr},
				"labels": map[string]string{"namespace": tg.Namespace, "pod": tg.Pod}}},
		})
	}
	cfg := map[string]any{
		"global":         map[string]string{"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
		"rule_files":     []string{ruleFile},
		"scrape_configs": scrapes,
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshal prometheus config: %w", err)
	}
	return b, nil
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// startPrometheus runs a real Prometheus on loopback with the rules of o, scraping targets, and
// returns its HTTP API. Cleanup stops it.
func startPrometheus(t *testing.T, ctx context.Context, bin string, o RuleOptions, targets []scrapeTarget) v1.API {
	t.Helper()
	dir := t.TempDir()
	rules, err := marshalYAML(Rules(o))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := prometheusConfig(filepath.Join(dir, "rules.yaml"), targets)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yaml": rules, "prometheus.yml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	waitReady(t, ctx, "http://"+addr+"/-/ready", out)
	client, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(client)
}

func waitReady(t *testing.T, ctx context.Context, url string, out *lockedBuffer) {
	t.Helper()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("prometheus not ready: %v\n%s", ctx.Err(), out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func firing(ctx context.Context, p v1.API) ([]string, error) { return FiringAlerts(ctx, p) }

// waitFiring polls until exactly want (sorted) fire.
func waitFiring(t *testing.T, ctx context.Context, p v1.API, want []string) {
	t.Helper()
	var got []string
	for {
		var err error
		if got, err = firing(ctx, p); err == nil && slices.Equal(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("firing alerts %q, want exactly %q (%v)", got, want, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func substitute(expr string) string { return SubstituteVariables(expr) }

func query(ctx context.Context, p v1.API, expr string) (int, error) {
	return SeriesCount(ctx, p, expr, time.Now())
}

// present reports which metric names have at least one series in Prometheus.
func present(ctx context.Context, t *testing.T, p v1.API, names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		c, err := query(ctx, p, fmt.Sprintf(`count({__name__=%q})`, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = c > 0
	}
	return out
}
