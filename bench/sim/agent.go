package sim

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// counters are the cumulative client-facing SN responses of one pod, as hsds-agent exports them
// (schema.Responses by code and 503 cause).
type counters struct {
	ok, overload, notReady int64
}

func (c counters) total() int64 { return c.ok + c.overload + c.notReady }

// Namespace, Deployment and Labels of the simulated HSDS pods (docs/hsds.md: label app=hsds).
const (
	Namespace  = "hsds"
	Deployment = "hsds"
)

func podLabels() map[string]string { return map[string]string{"app": "hsds"} }

// newStore is the adapter's store the simulated agents are recorded into: bench turns counters
// into rates with the adapter's own code, not a copy of it.
func newStore(sc Scenario) *store.Store {
	return store.New(store.Config{
		Window:      seconds(sc.RateWindowSeconds),
		ShortWindow: seconds(min(sc.RateWindowSeconds, 4*sc.ScrapeIntervalSeconds)),
		StaleAfter:  seconds(3 * sc.ScrapeIntervalSeconds),
	})
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// scrape records what every serving pod's agent exports at t into the store: cumulative
// responses by cause, in-flight, limit, SN state and node count (agent/schema).
func (s *Sim) scrape(t float64) {
	state := schema.StateReady
	if !s.ready(t) {
		state = schema.StateWaiting
	}
	now := At(t)
	for _, p := range s.endpoints {
		var rej [agentmetrics.NumCauses]float64
		rej[agentmetrics.CauseOverload] = float64(p.counts.overload)
		rej[agentmetrics.CauseNotReady] = float64(p.counts.notReady)
		rd := agentmetrics.Reading{
			Responses: float64(p.counts.total()), Rejected: rej,
			InFlight: float64(p.inFlight), HasInFlight: true, Limit: float64(s.sc.MaxTaskCount), HasLimit: true,
			NodeState: state, NodeCount: len(s.endpoints), Up: true,
			Exact: true, Source: schema.SourceMetrics, Version: "1.0.1",
		}
		s.syncPod(p, t)
		s.store.Record(store.Key{Namespace: Namespace, Name: p.name}, types.UID(p.name), now, rd)
	}
}

// syncPod tells the store what Kubernetes says about p at t. Ready follows HSDS 1.0.1's
// readiness probe (node state READY).
func (s *Sim) syncPod(p *pod, t float64) {
	m := store.PodMeta{
		Namespace: Namespace, Name: p.name, UID: types.UID(p.name), Labels: podLabels(),
		Phase: heuristics.PodPending, Scheduled: p.node != nil, Created: At(p.created),
		Deployment: Deployment,
	}
	if p.started() {
		m.Phase, m.Started, m.Ready = heuristics.PodRunning, At(p.startedAt), s.ready(t)
		m.IP, m.Port = "10.0.0.1", schema.DefaultAgentPort
	}
	s.store.UpsertPod(m)
}

// PodSamples implements scaler.PodSource: the adapter store's figures of the simulated pods.
// Their Exposed figures are the serving pods' live counters and in-flight count at the
// simulator's now (what a scrape of HSDS's own /metrics returns at that instant), not the
// store's last 5 s reading: the baselines sample them on Prometheus' and Knative's schedules.
func (s *Sim) PodSamples(namespace string, selector labels.Selector, now time.Time) []heuristics.PodSample {
	t := s.Seconds()
	for _, p := range s.pods {
		s.syncPod(p, t)
	}
	out := s.store.PodSamples(namespace, selector, now)
	for i := range out {
		out[i].Exposed = heuristics.Exposition{}
		for _, p := range s.endpoints {
			if p.name == out[i].Name {
				out[i].Exposed = s.exposition(p, now)
				break
			}
		}
	}
	return out
}

// exposition is what a scrape of serving pod p returns at now.
func (s *Sim) exposition(p *pod, now time.Time) heuristics.Exposition {
	return heuristics.Exposition{
		Time: now, Responses: float64(p.counts.total()),
		Rejected503: heuristics.ByCause{Overload: float64(p.counts.overload), NotReady: float64(p.counts.notReady)},
		InFlight:    float64(p.inFlight), HasInFlight: true, Limit: float64(s.sc.MaxTaskCount),
	}
}

// PodSamplesNow returns every live pod's figures (Pending ones included) as of now.
func (s *Sim) PodSamplesNow() []heuristics.PodSample {
	return s.PodSamples(Namespace, labels.SelectorFromSet(podLabels()), s.Now())
}

// Snapshot is the heuristics.Snapshot of the simulated target now.
func (s *Sim) Snapshot() heuristics.Snapshot {
	return heuristics.Snapshot{
		Time:           s.Now(),
		SpecReplicas:   s.spec,
		StatusReplicas: int32(len(s.pods)),
		Pods:           s.PodSamplesNow(),
	}
}
