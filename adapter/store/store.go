package store

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Config sets the windows of a Store.
type Config struct {
	// Window is the span rates are computed over by default (PodSamples, the served metrics).
	Window time.Duration
	// ShortWindow is a shorter span for responsiveness (window=short).
	ShortWindow time.Duration
	// StaleAfter is the age past which a pod's last good scrape no longer counts: the pod is then
	// unknown, as if its scrape had failed (the collector stalled, or the pod left the target set).
	StaleAfter time.Duration
}

// Key names a pod.
type Key struct{ Namespace, Name string }

// PodMeta is what Kubernetes says about a pod.
type PodMeta struct {
	Namespace, Name string
	UID             types.UID
	Labels          map[string]string
	Phase           heuristics.PodPhase
	Ready           bool
	Scheduled       bool
	Created         time.Time
	Started         time.Time
	// IP and Port locate the pod's agent; IP is "" until the pod has one.
	IP   string
	Port int
	// Deployment is the owning Deployment's name ("" when the pod has none).
	Deployment string
}

// Key returns the pod's key.
func (m PodMeta) Key() Key { return Key{m.Namespace, m.Name} }

// Target is a pod whose agent should be scraped.
type Target struct {
	Key  Key
	UID  types.UID
	IP   string
	Port int
}

// Window selects which of the Store's two windows a read uses.
type Window int

// Windows.
const (
	Long  Window = iota // Config.Window
	Short               // Config.ShortWindow
)

// figures are the values computed from the ring at the last record.
type figures struct {
	ok       bool      // the last scrape succeeded
	okLong   bool      // rates over the long window could be computed
	okShort  bool      // rates over the short window could be computed
	t        time.Time // time of the newest point
	reading  agentmetrics.Reading
	long     Rates
	short    Rates
	failedAt time.Time
	reason   string
}

type entry struct {
	key  Key
	meta PodMeta
	sel  labels.Set
	pts  []point
	fig  figures
}

// Store is safe for concurrent use.
type Store struct {
	cfg  Config
	mu   sync.RWMutex
	pods map[Key]*entry
	// order holds the same entries sorted by key, so reads never sort (pods come and go rarely;
	// reads are frequent).
	order []*entry
	// gen is bumped on every change (see Generation).
	gen atomic.Uint64
}

// New returns an empty store.
func New(cfg Config) *Store {
	return &Store{cfg: cfg, pods: make(map[Key]*entry)}
}

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// Generation is a counter bumped by every change: UpsertPod, DeletePod, and every accepted
// Record or RecordFailure. Readers that cache answers compare it to tell whether the store
// changed; an unchanged generation means every read at the same time returns the same figures.
// (Time alone can still change an answer: a reading ages past StaleAfter without any write.)
func (s *Store) Generation() uint64 { return s.gen.Load() }

// UpsertPod adds a pod or updates what Kubernetes says about it. A new UID under the same name
// (the pod was recreated) starts from an empty ring.
func (s *Store) UpsertPod(m PodMeta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := m.Key()
	e, ok := s.pods[k]
	if !ok || e.meta.UID != m.UID {
		e = &entry{key: k}
		s.pods[k] = e
		i, found := slices.BinarySearchFunc(s.order, k, cmpEntryKey)
		if found {
			s.order[i] = e
		} else {
			s.order = slices.Insert(s.order, i, e)
		}
	}
	e.meta, e.sel = m, labels.Set(m.Labels)
	s.gen.Add(1)
}

func cmpKey(a, b Key) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func cmpEntryKey(e *entry, k Key) int { return cmpKey(e.key, k) }

// DeletePod removes a pod and its samples.
func (s *Store) DeletePod(namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := Key{namespace, name}
	delete(s.pods, k)
	if i, found := slices.BinarySearchFunc(s.order, k, cmpEntryKey); found {
		s.order = slices.Delete(s.order, i, i+1)
	}
	s.gen.Add(1)
}

// Len is the number of pods in the store.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pods)
}

// Targets lists the Running pods that have an IP, in a stable order.
func (s *Store) Targets() []Target {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Target, 0, len(s.order))
	for _, e := range s.order {
		if e.meta.Phase == heuristics.PodRunning && e.meta.IP != "" {
			out = append(out, Target{Key: e.key, UID: e.meta.UID, IP: e.meta.IP, Port: e.meta.Port})
		}
	}
	return out
}

// lookup returns the entry of a pod that is still the same pod (same UID).
func (s *Store) lookup(k Key, uid types.UID) *entry {
	e, ok := s.pods[k]
	if !ok || e.meta.UID != uid {
		return nil
	}
	return e
}

// Record adds a good reading of a pod's agent taken at t. It returns false, and changes nothing,
// when the pod has left the store (deleted mid-scrape) or t is not after the newest point
// (a reading seen twice, e.g. from Prometheus).
func (s *Store) Record(k Key, uid types.UID, t time.Time, rd agentmetrics.Reading) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.lookup(k, uid)
	if e == nil {
		return false
	}
	if n := len(e.pts); n > 0 && !t.After(e.pts[n-1].t) {
		return false
	}
	e.pts = append(e.pts, point{t: t, responses: rd.Responses, rejected: rd.Rejected})
	e.pts = prune(e.pts, s.cfg.Window)
	long, okLong := windowRates(e.pts, s.cfg.Window, 2*s.cfg.Window)
	short, okShort := windowRates(e.pts, s.cfg.ShortWindow, 2*s.cfg.ShortWindow)
	e.fig = figures{ok: true, okLong: okLong, okShort: okShort, t: t, reading: rd, long: long, short: short}
	s.gen.Add(1)
	return true
}

// RecordFailure marks a pod's last scrape as failed at t for reason: the pod is unknown until a
// good reading and a computable rate follow. Its ring is kept, so rates resume over the real gap.
func (s *Store) RecordFailure(k Key, uid types.UID, t time.Time, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.lookup(k, uid)
	if e == nil {
		return false
	}
	e.fig.ok, e.fig.failedAt, e.fig.reason = false, t, reason
	s.gen.Add(1)
	return true
}
