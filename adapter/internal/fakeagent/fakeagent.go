package fakeagent

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// State is what one fake agent exports.
type State struct {
	// OK is responses_total{code="200"}; Other maps further codes ("404", ...) to counts.
	OK    float64
	Other map[string]float64
	// Rejected maps a cause (schema.CauseOverload, ...) to responses_total{code="503",cause}.
	Rejected  map[string]float64
	InFlight  float64
	Limit     float64
	SNState   string
	NodeCount int
	Up        bool
	Exact     bool
	Source    string
	// Raw, when not empty, is served verbatim instead of the exposition built from the fields.
	Raw string
}

// Default is a healthy, idle agent of the metrics source.
func Default() State {
	return State{Limit: 100, SNState: schema.StateReady, NodeCount: 4, Up: true, Exact: true,
		Source: schema.SourceMetrics, Rejected: map[string]float64{}}
}

func b2f(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Exposition renders s in the Prometheus text format, as the agent would.
func (s State) Exposition() []byte {
	if s.Raw != "" {
		return []byte(s.Raw)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# HELP %s Client-facing responses.\n# TYPE %s counter\n", schema.Responses, schema.Responses)
	fmt.Fprintf(&b, "%s{cause=\"\",code=\"200\"} %g\n", schema.Responses, s.OK)
	codes := make([]string, 0, len(s.Other))
	for c := range s.Other {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "%s{cause=\"\",code=%q} %g\n", schema.Responses, c, s.Other[c])
	}
	for _, cause := range schema.Causes {
		fmt.Fprintf(&b, "%s{cause=%q,code=\"503\"} %g\n", schema.Responses, cause, s.Rejected[cause])
	}
	fmt.Fprintf(&b, "# TYPE %s gauge\n%s %g\n", schema.InFlight, schema.InFlight, s.InFlight)
	fmt.Fprintf(&b, "# TYPE %s gauge\n%s %g\n", schema.InFlightLimit, schema.InFlightLimit, s.Limit)
	fmt.Fprintf(&b, "# TYPE %s gauge\n", schema.NodeState)
	for _, node := range []string{schema.NodeDN, schema.NodeSN} {
		for _, st := range schema.States {
			fmt.Fprintf(&b, "%s{node=%q,state=%q} %d\n", schema.NodeState, node, st, b2f(st == s.SNState))
		}
	}
	fmt.Fprintf(&b, "# TYPE %s gauge\n", schema.NodeCount)
	fmt.Fprintf(&b, "%s{node=\"dn\"} %d\n%s{node=\"sn\"} %d\n", schema.NodeCount, s.NodeCount, schema.NodeCount, s.NodeCount)
	fmt.Fprintf(&b, "# TYPE %s gauge\n%s %d\n", schema.Up, schema.Up, b2f(s.Up))
	fmt.Fprintf(&b, "# TYPE %s gauge\n%s 0.0021\n", schema.ScrapeDuration, schema.ScrapeDuration)
	fmt.Fprintf(&b, "# TYPE %s counter\n%s{reason=\"timeout\"} 0\n", schema.ScrapeErrors, schema.ScrapeErrors)
	fmt.Fprintf(&b, "# TYPE %s gauge\n%s{exact=\"%t\",source=%q,version=\"1.0.1\"} 1\n",
		schema.Info, schema.Info, s.Exact, s.Source)
	return b.Bytes()
}

// Agent is an http.Handler serving a State at /metrics. Set changes it; Hang makes every request
// block until Release or until the request's context ends.
type Agent struct {
	mu    sync.Mutex
	state State
	body  []byte
	hang  chan struct{}
}

// New returns an agent serving s.
func New(s State) *Agent {
	a := &Agent{}
	a.Set(s)
	return a
}

// Set replaces what the agent serves.
func (a *Agent) Set(s State) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state, a.body = s, s.Exposition()
}

// Update applies f to the current state.
func (a *Agent) Update(f func(*State)) {
	a.mu.Lock()
	s := a.state
	a.mu.Unlock()
	f(&s)
	a.Set(s)
}

// Hang makes requests block until Release.
func (a *Agent) Hang() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hang == nil {
		a.hang = make(chan struct{})
	}
}

// Release ends Hang.
func (a *Agent) Release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hang != nil {
		close(a.hang)
		a.hang = nil
	}
}

// ServeHTTP implements http.Handler.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	hang, body := a.hang, a.body
	a.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(body)
}
