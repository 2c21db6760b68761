package agent

import (
	"maps"
	"sync"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// RespKey identifies one series of schema.Responses.
type RespKey struct {
	Code  string // HTTP status code as text, or schema.CodeOther
	Cause string // one of schema.Causes for 503s; "" otherwise
}

// Gauge is an optional value: Valid is false when the agent does not know it, and then the series
// is not exported at all (never a made-up value).
type Gauge struct {
	Value float64
	Valid bool
}

// known returns a valid Gauge holding v.
func known(v float64) Gauge { return Gauge{Value: v, Valid: true} }

// NodeState is what the agent knows of one node's HSDS state. When ReadyOnly is true the source
// can tell READY from not READY only (HSDS 1.x hsds_node_ready): then only the READY series of the
// state set is exported.
type NodeState struct {
	State     string // one of schema.States when !ReadyOnly
	Ready     bool
	ReadyOnly bool
}

// Gauges are the values one successful read of HSDS sets. They are replaced by every read and
// dropped (absent) when the read fails.
type Gauges struct {
	InFlight  Gauge
	Limit     Gauge
	NodeCount Gauge
	Nodes     map[string]NodeState // by schema.NodeSN / schema.NodeDN; missing = unknown
}

// Result is the outcome of one poll of HSDS.
type Result struct {
	// Up is true when the service node was read successfully (the read every client-facing figure
	// depends on). A failed DN read does not make the agent down: it only drops the DN state.
	Up       bool
	Duration time.Duration
	// Errors holds every failed read of this poll; each counts once under its Reason.
	Errors []error
	// Deltas are response counts to add (never negative).
	Deltas map[RespKey]float64
	// Gauges are used only when Up is true.
	Gauges  Gauges
	Version string // "" keeps the last known version
}

// State is a consistent copy of everything the collector exports.
type State struct {
	Source    string
	Exact     bool
	Version   string
	Responses map[RespKey]float64
	Gauges    Gauges
	// LiveInFlight is set by the proxy source: its own exact count of proxied requests, which
	// overrides Gauges.InFlight and is exported whether or not HSDS can be read.
	LiveInFlight Gauge
	Up           bool
	// ScrapeDuration is absent until the first poll.
	ScrapeDuration Gauge
	ScrapeErrors   map[string]float64
	LastPoll       time.Time // zero before the first poll
	EverUp         bool      // at least one successful read of HSDS
}

// Store holds the agent's state. Sources write into it; the collector reads consistent copies.
// It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	state State
	live  bool
	// inFlight is the proxy's live count (used only when live is true).
	inFlight int64
}

// NewStore returns an empty store for a source. exact says whether the source's 503 count is
// exact; initial lists the response series that exist (at 0) before any response is seen, so that
// rate() has a starting point and "absent" keeps meaning "this source cannot count it".
func NewStore(source string, exact bool, initial []RespKey) *Store {
	s := &Store{state: State{
		Source:       source,
		Exact:        exact,
		Responses:    map[RespKey]float64{},
		ScrapeErrors: map[string]float64{},
	}}
	for _, k := range initial {
		s.state.Responses[k] = 0
	}
	for _, r := range ReadErrorReasons() {
		s.state.ScrapeErrors[r] = 0
	}
	return s
}

// enableLive makes the exported in-flight gauge the store's own live count (proxy source).
func (s *Store) enableLive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = true
}

// addInFlight moves the live in-flight count by d.
func (s *Store) addInFlight(d int64) {
	s.mu.Lock()
	s.inFlight += d
	s.mu.Unlock()
}

// AddResponse counts one response (proxy source, on the request path).
func (s *Store) AddResponse(k RespKey) {
	s.mu.Lock()
	s.state.Responses[k]++
	s.mu.Unlock()
}

// AddResponses counts n responses under k.
func (s *Store) AddResponses(k RespKey, n float64) {
	s.mu.Lock()
	s.state.Responses[k] += n
	s.mu.Unlock()
}

// Commit records the result of one poll made at now.
func (s *Store) Commit(now time.Time, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.state
	st.LastPoll = now
	st.ScrapeDuration = known(r.Duration.Seconds())
	for _, err := range r.Errors {
		st.ScrapeErrors[ReadErrorOf(err)]++
	}
	for k, v := range r.Deltas {
		if v > 0 {
			st.Responses[k] += v
		} else if _, ok := st.Responses[k]; !ok {
			st.Responses[k] = 0
		}
	}
	if r.Version != "" {
		st.Version = r.Version
	}
	st.Up = r.Up
	if !r.Up {
		st.Gauges = Gauges{}
		return
	}
	st.EverUp = true
	st.Gauges = r.Gauges
	st.Gauges.Nodes = maps.Clone(r.Gauges.Nodes)
}

// Snapshot returns a deep copy of the state.
func (s *Store) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.state
	c.Responses = maps.Clone(s.state.Responses)
	c.ScrapeErrors = maps.Clone(s.state.ScrapeErrors)
	c.Gauges.Nodes = maps.Clone(s.state.Gauges.Nodes)
	if s.live {
		c.LiveInFlight = known(float64(s.inFlight))
	}
	return c
}

// initialKeys returns the response series a source pre-creates at 0: 503 for each cause it can
// count.
func initialKeys(causes ...string) []RespKey {
	keys := make([]RespKey, 0, len(causes))
	for _, c := range causes {
		keys = append(keys, RespKey{Code: schema.Code503, Cause: c})
	}
	return keys
}
