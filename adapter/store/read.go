package store

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// PodView is one pod's figures with the Kubernetes facts a reader may need besides PodSample.
type PodView struct {
	Namespace  string
	Deployment string
	// HasLimit is false when the agent exports no in-flight limit (utilization unknown).
	HasLimit bool
	heuristics.PodSample
}

// The read methods: PodSamples (the scaler), Get, ListDeployment and Visit (the custom-metrics
// provider and the demo).

// PodSamples returns one PodSample for every pod in namespace ("" for all) whose labels match
// selector, Pending ones included, with rates over the long window, sorted by namespace and name.
// It is the method the scaler calls. Pods without a usable, fresh scrape have Known=false and
// zero figures.
func (s *Store) PodSamples(namespace string, selector labels.Selector, now time.Time) []heuristics.PodSample {
	var out []heuristics.PodSample
	s.Visit(namespace, selector, now, Long, func(v *PodView) { out = append(out, v.PodSample) })
	return out
}

// Visit calls f for every pod in namespace ("" for all) matching selector, in namespace and name
// order, with the store read-locked: f must be quick and must not call the store. The view is
// reused between calls; copy what you keep. It lets readers build answers without an
// intermediate slice.
func (s *Store) Visit(namespace string, selector labels.Selector, now time.Time, w Window, f func(v *PodView)) {
	if selector == nil {
		selector = labels.Everything()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var v PodView
	for _, e := range s.order {
		if (namespace == "" || e.key.Namespace == namespace) && selector.Matches(e.sel) {
			v = s.view(e, now, w)
			f(&v)
		}
	}
}

// Get returns the PodView of one pod; ok is false when the pod is not in the store.
func (s *Store) Get(namespace, name string, now time.Time, w Window) (PodView, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.pods[Key{namespace, name}]
	if !ok {
		return PodView{}, false
	}
	return s.view(e, now, w), true
}

// ListDeployment returns the PodViews of the pods owned by a Deployment, sorted by name.
func (s *Store) ListDeployment(namespace, deployment string, now time.Time, w Window) []PodView {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PodView
	for _, e := range s.order {
		if e.key.Namespace == namespace && e.meta.Deployment == deployment {
			out = append(out, s.view(e, now, w))
		}
	}
	return out
}

// view builds a PodView; it must be called with s.mu held.
func (s *Store) view(e *entry, now time.Time, w Window) PodView {
	m := e.meta
	v := PodView{Namespace: m.Namespace, Deployment: m.Deployment, PodSample: heuristics.PodSample{
		Name: m.Name, Phase: m.Phase, Ready: m.Ready, Scheduled: m.Scheduled,
		Created: m.Created, Started: m.Started,
	}}
	f := &e.fig
	rates, ok := f.long, f.okLong
	if w == Short {
		rates, ok = f.short, f.okShort
	}
	if !f.ok || now.Sub(f.t) > s.cfg.StaleAfter {
		return v
	}
	rd := &f.reading
	v.Exposed = heuristics.Exposition{
		Time: f.t, Responses: rd.Responses,
		Rejected503: heuristics.ByCause{
			Overload: rd.Rejected[agentmetrics.CauseOverload],
			NotReady: rd.Rejected[agentmetrics.CauseNotReady],
			Upstream: rd.Rejected[agentmetrics.CauseUpstream],
		},
		InFlight: rd.InFlight, HasInFlight: rd.HasInFlight, Limit: rd.Limit,
	}
	if !ok {
		return v
	}
	v.HasLimit = rd.HasLimit
	p := &v.PodSample
	p.Known, p.SampleTime, p.Window = true, f.t, rates.Span
	p.NodeState, p.NodeCount = rd.NodeState, rd.NodeCount
	p.InFlight, p.NoInFlight, p.Limit = rd.InFlight, !rd.HasInFlight, rd.Limit
	p.RequestRate = rates.Requests
	p.Rejected503 = heuristics.ByCause{
		Overload: rates.Rejected[agentmetrics.CauseOverload],
		NotReady: rates.Rejected[agentmetrics.CauseNotReady],
		Upstream: rates.Rejected[agentmetrics.CauseUpstream],
	}
	p.Exact503 = rd.Exact
	return v
}

// Health reports why a pod is unknown, for logs and debugging: the time and reason of its last
// failed scrape ("" when the last scrape succeeded or none was tried).
func (s *Store) Health(namespace, name string) (failedAt time.Time, reason string, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, found := s.pods[Key{namespace, name}]
	if !found {
		return time.Time{}, "", false
	}
	if e.fig.ok {
		return time.Time{}, "", true
	}
	return e.fig.failedAt, e.fig.reason, true
}
