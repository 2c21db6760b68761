package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/scrape"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// collector gathers one view.Snapshot per refresh: the agents' /metrics through the adapter's
// own parser and windowed store (adapter/agentmetrics, adapter/store), serve's /metrics, the pods
// and the scaler's Rescaled Events from the API.
type collector struct {
	http        *http.Client
	client      kubernetes.Interface
	node        Node
	serveURL    string  // serve's /metrics
	podCapacity float64 // nominal req/s of one READY pod

	rates      *store.Store // the agents' readings; rates over rateWindow
	seen       map[string]bool
	prevServe  map[string]float64
	decision   string
	seenEvents map[types.UID]bool
	changes    []report.Change
	lastChange string
}

func newCollector(client kubernetes.Interface, node Node, serveURL string, podCapacity float64) *collector {
	return &collector{http: &http.Client{Timeout: 800 * time.Millisecond}, client: client, node: node, serveURL: serveURL,
		podCapacity: podCapacity, seenEvents: map[types.UID]bool{}, seen: map[string]bool{},
		rates: store.New(store.Config{Window: rateWindow, ShortWindow: rateWindow, StaleAfter: 3 * rateWindow})}
}

// rateWindow is the span the view's rates are taken over: the agents update their counters once
// per poll (1 s), so a 1 s difference aliases; 5 s shows the trend.
const rateWindow = 5 * time.Second

// collect fills the figures of s (everything but Elapsed, Duration, Offered and Clients).
func (c *collector) collect(ctx context.Context, elapsed time.Duration, s *view.Snapshot) {
	eps := c.node.Endpoints()
	agents := c.scrapeAgents(ctx, eps)
	s.Rejected, s.Attempts = map[string]float64{}, 0
	figures := map[string]agentmetrics.Reading{}
	now := time.Now()
	for _, e := range eps {
		rd, ok := agents[e.Name]
		if !ok {
			continue
		}
		figures[e.Name] = rd
		k := store.Key{Namespace: namespace, Name: e.Name}
		if !c.seen[e.Name] {
			c.rates.UpsertPod(store.PodMeta{Namespace: namespace, Name: e.Name, UID: types.UID(e.Name)})
			c.seen[e.Name] = true
		}
		c.rates.Record(k, types.UID(e.Name), now, rd)
		if v, ok := c.rates.Get(namespace, e.Name, now, store.Long); ok && v.Known {
			s.Attempts += v.RequestRate
			s.Rejected[schema.CauseOverload] += v.Rejected503.Overload
			s.Rejected[schema.CauseNotReady] += v.Rejected503.NotReady
			s.Rejected[schema.CauseUpstream] += v.Rejected503.Upstream
		}
	}
	c.collectServe(ctx, s)
	s.Pods = c.pods(ctx, eps, figures)
	ready := 0
	for _, p := range s.Pods {
		if p.State == schema.StateReady {
			ready++
		}
	}
	s.Capacity = float64(ready) * c.podCapacity
	c.collectEvents(ctx, elapsed)
	s.LastChange = c.lastChange
}

// scrapeAgents reads every agent's /metrics concurrently.
func (c *collector) scrapeAgents(ctx context.Context, eps []Endpoint) map[string]agentmetrics.Reading {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]agentmetrics.Reading{}
	for _, e := range eps {
		wg.Go(func() {
			body, err := c.get(ctx, e.AgentURL+"/metrics")
			if err != nil {
				return
			}
			rd, err := agentmetrics.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				return
			}
			mu.Lock()
			out[e.Name] = rd
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func (c *collector) collectServe(ctx context.Context, s *view.Snapshot) {
	s.Desired, s.Spec, s.Ready, s.Pending = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	body, err := c.get(ctx, c.serveURL)
	if err != nil {
		return
	}
	sc, err := scrape.ParseScaler(body)
	if err != nil {
		return
	}
	s.Desired, s.Spec, s.Ready, s.Pending, s.Guards = sc.Desired, sc.Current, sc.Ready, sc.Pending, sc.Guards
	if c.prevServe != nil {
		if d := scrape.LastDecision(c.prevServe, sc.Decisions); d != "" {
			c.decision = d
		}
	}
	c.prevServe = sc.Decisions
	s.Decision = c.decision
}

// pods lists the HSDS pods from the API and joins each with its agent's figures.
func (c *collector) pods(ctx context.Context, eps []Endpoint, figures map[string]agentmetrics.Reading) []view.Pod {
	list, err := c.client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=hsds"})
	if err != nil {
		return nil
	}
	out := make([]view.Pod, 0, len(list.Items))
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		vp := view.Pod{Name: p.Name, IP: p.Status.PodIP, Phase: string(p.Status.Phase), Unschedulable: unschedulable(&p),
			InFlight: math.NaN(), Limit: math.NaN()}
		if rd, ok := figures[p.Name]; ok && rd.Up {
			if rd.HasInFlight {
				vp.InFlight = rd.InFlight
			}
			if rd.HasLimit {
				vp.Limit = rd.Limit
			}
			vp.State = rd.NodeState
			if vp.State == "" { // HSDS 1.x tells READY from not READY only
				vp.State = schema.StateWaiting
			}
		}
		out = append(out, vp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

// collectEvents records each new Rescaled Event of the hsds Deployment as a change.
func (c *collector) collectEvents(ctx context.Context, elapsed time.Duration) {
	evs, err := c.client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "reason=" + scaler.EventReasonRescaled + ",involvedObject.name=" + deploymentName})
	if err != nil {
		return
	}
	sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].CreationTimestamp.Before(&evs.Items[j].CreationTimestamp) })
	for _, ev := range evs.Items {
		if c.seenEvents[ev.UID] {
			continue
		}
		c.seenEvents[ev.UID] = true
		from, to, reason, err := report.ParseRescaled(ev.Message)
		if err != nil {
			continue
		}
		c.changes = append(c.changes, report.Change{T: elapsed.Seconds(), From: from, To: to, Reason: reason})
		c.lastChange = fmt.Sprintf("t=%.0fs %d -> %d: %s", elapsed.Seconds(), from, to, strings.TrimPrefix(ev.Message, fmt.Sprintf("scaled from %d to %d ", from, to)))
	}
}

func (c *collector) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	rsp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rsp.Body.Close() }()
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, rsp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(rsp.Body, 4<<20))
}
