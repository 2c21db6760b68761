package main

import (
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

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/scrape"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// collector gathers one view.Snapshot per refresh: the agents' and serve's /metrics (expfmt),
// the pods and the scaler's Rescaled Events from the API.
type collector struct {
	http        *http.Client
	client      kubernetes.Interface
	node        Node
	serveURL    string  // serve's /metrics
	podCapacity float64 // nominal req/s of one READY pod

	prev       map[string][]agentSample // per pod, the last rateWindow of scrapes, oldest first
	prevServe  map[string]float64
	decision   string
	seenEvents map[types.UID]bool
	changes    []report.Change
	lastChange string
}

type agentSample struct {
	at time.Time
	a  scrape.Agent
}

func newCollector(client kubernetes.Interface, node Node, serveURL string, podCapacity float64) *collector {
	return &collector{http: &http.Client{Timeout: 800 * time.Millisecond}, client: client, node: node, serveURL: serveURL,
		podCapacity: podCapacity, prev: map[string][]agentSample{}, seenEvents: map[types.UID]bool{}}
}

// rateWindow is the span the view's rates are taken over: the agents update their counters once
// per poll (1 s), so a 1 s difference aliases; 5 s shows the trend.
const rateWindow = 5 * time.Second

// remember appends cur to the pod's history and drops what is older than rateWindow, keeping at
// least one older sample to take the rate from.
func remember(hist []agentSample, cur agentSample) []agentSample {
	hist = append(hist, cur)
	for len(hist) > 2 && cur.at.Sub(hist[1].at) >= rateWindow {
		hist = hist[1:]
	}
	return hist
}

// collect fills the figures of s (everything but Elapsed, Duration, Offered and Clients).
func (c *collector) collect(ctx context.Context, elapsed time.Duration, s *view.Snapshot) {
	eps := c.node.Endpoints()
	agents := c.scrapeAgents(ctx, eps)
	s.Rejected, s.Attempts = map[string]float64{}, 0
	figures := map[string]scrape.Agent{}
	next := map[string][]agentSample{}
	for _, e := range eps {
		cur, ok := agents[e.Name]
		if !ok {
			continue
		}
		figures[e.Name] = cur.a
		hist := remember(c.prev[e.Name], cur)
		next[e.Name] = hist
		if len(hist) > 1 {
			old := hist[0]
			addRates(s, scrape.Rates(old.a.Responses, cur.a.Responses, cur.at.Sub(old.at).Seconds()))
		}
	}
	c.prev = next
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

// addRates adds one pod's per-key response rates to the snapshot's totals.
func addRates(s *view.Snapshot, rates map[string]float64) {
	for k, v := range rates {
		s.Attempts += v
		if code, cause, ok := strings.Cut(k, "/"); ok && code == schema.Code503 {
			s.Rejected[cause] += v
		}
	}
}

// scrapeAgents reads every agent's /metrics concurrently.
func (c *collector) scrapeAgents(ctx context.Context, eps []Endpoint) map[string]agentSample {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]agentSample{}
	for _, e := range eps {
		wg.Go(func() {
			body, err := c.get(ctx, e.AgentURL+"/metrics")
			if err != nil {
				return
			}
			a, err := scrape.ParseAgent(body)
			if err != nil {
				return
			}
			mu.Lock()
			out[e.Name] = agentSample{at: time.Now(), a: a}
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
func (c *collector) pods(ctx context.Context, eps []Endpoint, figures map[string]scrape.Agent) []view.Pod {
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
		if a, ok := figures[p.Name]; ok {
			vp.InFlight, vp.Limit = a.InFlight, a.Limit
			switch a.SNReady {
			case 1:
				vp.State = schema.StateReady
			case 0:
				vp.State = "WAITING"
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
