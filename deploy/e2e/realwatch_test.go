//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// agentSample is what the agents exported at one moment: the responses counters summed over every
// pod seen so far (a departed pod keeps its last values, so the sums never fall), keyed
// "code/cause", and each running pod's SN state and in-flight figure.
type agentSample struct {
	at     time.Time
	totals map[string]float64
	pods   map[string]string // pod -> "READY in_flight=3"
}

// agentWatch reads every running pod's agent /metrics every second.
type agentWatch struct {
	mu      sync.Mutex
	last    map[string]map[string]float64 // pod -> key -> value
	samples []agentSample
}

func watchAgents(t *testing.T, k *fakekubelet.Kubelet) *agentWatch {
	t.Helper()
	w := &agentWatch{last: map[string]map[string]float64{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			w.poll(ctx, k.Pods())
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return w
}

func (w *agentWatch) poll(ctx context.Context, pods []*fakekubelet.Pod) {
	s := agentSample{at: time.Now(), pods: map[string]string{}}
	for _, p := range pods {
		vals, state, err := readAgent(ctx, p.AgentURL)
		if err != nil {
			s.pods[p.Name] = "unreadable"
			continue
		}
		s.pods[p.Name] = state
		w.mu.Lock()
		w.last[p.Name] = vals
		w.mu.Unlock()
	}
	s.totals = map[string]float64{}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, vals := range w.last {
		for k, v := range vals {
			s.totals[k] += v
		}
	}
	w.samples = append(w.samples, s)
}

// readAgent returns an agent's hsds_agent_responses_total by "code/cause" and a short state line.
func readAgent(ctx context.Context, agentURL string) (map[string]float64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, agentURL+"/metrics", nil)
	if err != nil {
		return nil, "", err
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, "", err
	}
	vals := map[string]float64{}
	if mf := fams["hsds_agent_responses_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			var code, cause string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "code":
					code = lp.GetValue()
				case "cause":
					cause = lp.GetValue()
				}
			}
			vals[code+"/"+cause] += m.GetCounter().GetValue()
		}
	}
	state := "?"
	if mf := fams["hsds_agent_node_state"]; mf != nil {
		for _, m := range mf.GetMetric() {
			if hasLabels(m, map[string]string{"node": "sn"}) && m.GetGauge().GetValue() == 1 {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "state" {
						state = lp.GetValue()
					}
				}
			}
		}
	}
	if v, ok := sumSeries(fams["hsds_agent_in_flight"], nil); ok {
		state += fmt.Sprintf(" in_flight=%g", v)
	}
	return vals, state, nil
}

// at returns the last sample taken at or before t (the first sample if none).
func (w *agentWatch) at(t time.Time) agentSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return agentSample{totals: map[string]float64{}}
	}
	s := w.samples[0]
	for _, x := range w.samples {
		if x.at.After(t) {
			break
		}
		s = x
	}
	return s
}

// delta returns how much counter key ("503/overload") rose between from and to.
func (w *agentWatch) delta(key string, from, to time.Time) float64 {
	return w.at(to).totals[key] - w.at(from).totals[key]
}

// deltas renders every counter's rise between from and to.
func (w *agentWatch) deltas(from, to time.Time) string {
	a, b := w.at(from).totals, w.at(to).totals
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		if d := b[k] - a[k]; d != 0 {
			parts = append(parts, fmt.Sprintf("%s:%g", k, d))
		}
	}
	return strings.Join(parts, " ")
}

// perSecond renders, per second of [from, to) relative to t0, the counters' rises and the pods'
// states.
func (w *agentWatch) perSecond(t0, from, to time.Time) string {
	var b strings.Builder
	for s := from; s.Before(to); s = s.Add(time.Second) {
		pods := w.at(s.Add(time.Second)).pods
		names := make([]string, 0, len(pods))
		for n := range pods {
			names = append(names, n)
		}
		slices.Sort(names)
		var st []string
		for _, n := range names {
			st = append(st, n[len(n)-5:]+"="+pods[n])
		}
		fmt.Fprintf(&b, "  t%+4.0fs agents %s | %s\n", s.Sub(t0).Seconds(), w.deltas(s, s.Add(time.Second)), strings.Join(st, ", "))
	}
	return b.String()
}
