package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/proc"
)

// prometheus is a running Prometheus scraping the agents (file-based discovery, rewritten as
// pods come and go) and serve's metrics port.
type prometheus struct {
	Proc        *proc.Process
	URL         string
	targetsFile string
	last        string
}

// prometheusConfig scrapes every 2 s: the agents listed in targetsFile, and serve.
func prometheusConfig(targetsFile string, serveMetricsPort int) string {
	return fmt.Sprintf(`global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: hsds-agent
    file_sd_configs:
      - files: [%q]
        refresh_interval: 2s
  - job_name: hsds-autoscaler
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, targetsFile, serveMetricsPort)
}

// fileSDTargets is the file_sd JSON of the agents, one group per pod with its pod and namespace
// labels (what the adapter's Prometheus mode and the dashboards expect). Sorted by pod name.
func fileSDTargets(eps []Endpoint) ([]byte, error) {
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	groups := make([]group, 0, len(eps))
	for _, e := range eps {
		u, err := url.Parse(e.AgentURL)
		if err != nil {
			return nil, fmt.Errorf("agent URL %q: %w", e.AgentURL, err)
		}
		groups = append(groups, group{Targets: []string{u.Host}, Labels: map[string]string{"pod": e.Name, "namespace": namespace}})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Labels["pod"] < groups[j].Labels["pod"] })
	return json.MarshalIndent(groups, "", "  ")
}

// startPrometheus runs binary with its data in tmp and its log in logPath.
func startPrometheus(ctx context.Context, binary, tmp, logPath string, serveMetricsPort int) (*prometheus, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	p := &prometheus{URL: "http://127.0.0.1:" + strconv.Itoa(ports[0]), targetsFile: filepath.Join(tmp, "agents.json")}
	if err := os.WriteFile(p.targetsFile, []byte("[]"), 0o644); err != nil {
		return nil, fmt.Errorf("prometheus targets: %w", err)
	}
	cfgPath := filepath.Join(tmp, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(prometheusConfig(p.targetsFile, serveMetricsPort)), 0o644); err != nil {
		return nil, fmt.Errorf("prometheus config: %w", err)
	}
	args := []string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(tmp, "prometheus-data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(ports[0]), "--log.level=warn"}
	if p.Proc, err = proc.Start("prometheus", binary, args, logPath); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, p.Proc, p.URL+"/-/ready", 60*time.Second); err != nil {
		_ = p.Proc.Stop(5 * time.Second)
		return nil, fmt.Errorf("prometheus did not become ready (log %s): %w", logPath, err)
	}
	return p, nil
}

// UpdateTargets rewrites the targets file when the pods changed (atomically: write, rename).
func (p *prometheus) UpdateTargets(eps []Endpoint) error {
	data, err := fileSDTargets(eps)
	if err != nil || string(data) == p.last {
		return err
	}
	tmp := p.targetsFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("prometheus targets: %w", err)
	}
	if err := os.Rename(tmp, p.targetsFile); err != nil {
		return fmt.Errorf("prometheus targets: %w", err)
	}
	p.last = string(data)
	return nil
}
