package sim

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// counters are the cumulative client-facing SN responses of one pod by what they really were.
type counters struct {
	ok, overload, notReady, upstream, err500 int64
}

func (c counters) total() int64 { return c.ok + c.overload + c.notReady + c.upstream + c.err500 }

// Agent sources of the simulated hsds-agent (Scenario.AgentSource).
const (
	// AgentInfo is HSDS 0.9.x: the agent reads /info and infers the 503 causes with its own
	// classifier (agent.InfoClassifier): upper bounds, in-flight only while fresh.
	AgentInfo = "info"
	// AgentExact is HSDS 1.x /metrics: every response by code, 503s by their true cause.
	AgentExact = "exact"
)

// podAgent is the hsds-agent of one pod under AgentInfo: the SN's /info figures as HSDS keeps
// them, the agent's classifier, and the counters it exports.
type podAgent struct {
	// requests is req_count (gated requests, gate rejections included, not-READY rejections
	// not); warnings is log_stats.WARN (one per 503 and per SN->DN error); numTasks is
	// req_count.num_tasks, the task count at the last gated request.
	requests, warnings, numTasks float64
	classes                      *agent.InfoClassifier
	exported                     agent.InfoCounts
	inFlight                     agent.Gauge
}

// pollAgents runs one poll of every serving pod's agent (AgentInfo): the /info sample the SN
// would answer now, through the agent's own classifier.
func (s *Sim) pollAgents(t float64) {
	now := At(t)
	for _, p := range s.endpoints {
		a := &p.agent
		if a.classes == nil {
			a.classes = agent.NewInfoClassifier(agent.InfoConfig{Limit: float64(s.sc.MaxTaskCount),
				InFlightMaxAge: agent.DefaultInFlightMaxAge, GateHold: agent.DefaultGateHold})
		}
		counts, inFlight := a.classes.Observe(now, agent.InfoSample{
			NodeType: "sn", State: s.nodeState(p, t), NodeCount: float64(len(s.endpoints)), StartTime: p.startedAt,
			Requests: a.requests, NumTasks: a.numTasks, Warnings: a.warnings,
		})
		a.exported.Overload += counts.Overload
		a.exported.NotReady += counts.NotReady
		a.exported.Other += counts.Other
		a.inFlight = inFlight
	}
}

// nodeState is p's SN state at t.
func (s *Sim) nodeState(p *pod, t float64) string {
	if s.podReady(p, t) {
		return schema.StateReady
	}
	return schema.StateWaiting
}

// reading is what p's agent exports at t.
func (s *Sim) reading(p *pod, t float64) agentmetrics.Reading {
	rd := agentmetrics.Reading{
		Limit: float64(s.sc.MaxTaskCount), HasLimit: true,
		NodeState: s.nodeState(p, t), NodeCount: len(s.endpoints), Up: true,
	}
	if s.sc.AgentSource == AgentInfo {
		x := p.agent.exported
		rd.Responses = x.Overload + x.NotReady + x.Other
		rd.Rejected[agentmetrics.CauseOverload] = x.Overload
		rd.Rejected[agentmetrics.CauseNotReady] = x.NotReady
		rd.InFlight, rd.HasInFlight = p.agent.inFlight.Value, p.agent.inFlight.Valid
		rd.Source, rd.Version = schema.SourceInfo, "0.9.4"
		return rd
	}
	rd.Responses = float64(p.counts.total())
	rd.Rejected[agentmetrics.CauseOverload] = float64(p.counts.overload)
	rd.Rejected[agentmetrics.CauseNotReady] = float64(p.counts.notReady)
	rd.Rejected[agentmetrics.CauseUpstream] = float64(p.counts.upstream)
	rd.InFlight, rd.HasInFlight = float64(p.inFlight), true
	rd.Exact, rd.Source, rd.Version = true, schema.SourceMetrics, "1.0.1"
	return rd
}

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
		ShortWindow: seconds(sc.ShortRateWindowSeconds),
		StaleAfter:  seconds(sc.StaleAfterSeconds),
	})
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// scrape records what every serving pod's agent exports at t into the store: cumulative
// responses by cause, in-flight, limit, SN state and node count (agent/schema).
func (s *Sim) scrape(t float64) {
	s.scrapes++
	now := At(t)
	for _, p := range s.endpoints {
		s.syncPod(p, t)
		s.store.Record(store.Key{Namespace: Namespace, Name: p.name}, types.UID(p.name), now, s.reading(p, t))
	}
}

// syncPod tells the store what Kubernetes says about p at t. Ready follows the readiness probe
// of deploy/examples/hsds (node state READY).
func (s *Sim) syncPod(p *pod, t float64) {
	m := store.PodMeta{
		Namespace: Namespace, Name: p.name, UID: types.UID(p.name), Labels: podLabels(),
		Phase: heuristics.PodPending, Scheduled: p.node != nil, Created: At(p.created),
		Deployment: Deployment,
	}
	if p.started() {
		m.Phase, m.Started, m.Ready = heuristics.PodRunning, At(p.startedAt), s.podReady(p, t)
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

// exposition is what a scrape of serving pod p's HSDS 1.x /metrics returns at now (the upstream
// recipes need 1.x: they are given its exact counters whatever AgentSource the policy reads).
func (s *Sim) exposition(p *pod, now time.Time) heuristics.Exposition {
	return heuristics.Exposition{
		Time: now, Responses: float64(p.counts.total()),
		Rejected503: heuristics.ByCause{Overload: float64(p.counts.overload), NotReady: float64(p.counts.notReady),
			Upstream: float64(p.counts.upstream)},
		InFlight: float64(p.inFlight), HasInFlight: true, Limit: float64(s.sc.MaxTaskCount),
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
