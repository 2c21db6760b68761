//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// Workload model of every scenario: each fake HSDS SN admits 20 tasks; a request
// (GET .../value?chunks=2, no keep-alive) holds 4 of them (connection, handler, 2 chunk workers)
// for 100 ms, so one pod serves about 40-50 requests/s before it sheds.
const (
	maxTaskCount = 20
	serviceTime  = 100 * time.Millisecond
	podCapacity  = 40.0 // requests/s one pod serves (policy podCapacity)
	lightRate    = 5.0  // requests/s per pod: utilization well below the scale-down threshold
)

// workload is the hsds Deployment of one test namespace and the fake node running its pods.
type workload struct {
	ns      string
	kubelet *fakekubelet.Kubelet
}

// newWorkload creates namespace ns, the Deployment hsds (app=hsds) with replicas, and a fake
// kubelet for its pods (edit adjusts its config), and waits until the pods run.
func newWorkload(ctx context.Context, t *testing.T, ns string, replicas int32, edit func(*fakekubelet.Config)) *workload {
	t.Helper()
	createNamespace(ctx, t, ns)
	cfg := fakekubelet.DefaultConfig(ns)
	cfg.HSDS.MaxTaskCount = maxTaskCount
	cfg.HSDS.ServiceTime = fakehsds.Fixed(serviceTime)
	cfg.HSDS.RescaleSettle = 0
	if edit != nil {
		edit(&cfg)
	}
	k, err := fakekubelet.New(cluster.Client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	createDeployment(ctx, t, ns, "hsds", replicas)
	w := &workload{ns: ns, kubelet: k}
	if cfg.Slots <= 0 || int(replicas) <= cfg.Slots {
		w.waitRunning(ctx, t, int(replicas))
	}
	return w
}

func createDeployment(ctx context.Context, t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "sn", Image: "hdfgroup/hsds:v0.9.4"}},
					TerminationGracePeriodSeconds: ptr(int64(0))},
			},
		},
	}
	if _, err := cluster.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// waitRunning waits until the fake node runs exactly n pods.
func (w *workload) waitRunning(ctx context.Context, t *testing.T, n int) []*fakekubelet.Pod {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	pods, err := w.kubelet.WaitRunning(wctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// waitAtLeast waits until the fake node runs at least n pods: the scaler may add more meanwhile.
func (w *workload) waitAtLeast(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	eventually(ctx, t, 60*time.Second, fmt.Sprintf("at least %d running pods", n), func(context.Context) (bool, error) {
		return len(w.kubelet.Pods()) >= n, nil
	})
}

// replicas reads the Deployment's spec.replicas.
func (w *workload) replicas(ctx context.Context) (int32, error) {
	d, err := cluster.Client.AppsV1().Deployments(w.ns).Get(ctx, "hsds", metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	return *d.Spec.Replicas, nil
}

// overloadRejected sums the fake pods' ground-truth overload 503s.
func (w *workload) overloadRejected() int64 {
	var n int64
	for _, p := range w.kubelet.Pods() {
		n += p.Truth().Rejected["overload"]
	}
	return n
}

// change is one observed change of spec.replicas.
type change struct {
	at       time.Time
	from, to int32
}

func (c change) String() string {
	return fmt.Sprintf("%s %d->%d", c.at.Format("15:04:05.000"), c.from, c.to)
}

// recorder polls spec.replicas every 25 ms and keeps every change; it also notes when the fake
// pods first shed load (ground truth) after arm.
type recorder struct {
	w       *workload
	mu      sync.Mutex
	changes []change
	shedAt  time.Time
	armed   bool
	base    int64
}

func (w *workload) record(t *testing.T) *recorder {
	r := &recorder{w: w}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		last := int32(-1)
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			now := time.Now()
			if n, err := w.replicas(ctx); err == nil {
				r.note(now, last, n)
				last = n
			}
			r.noteShed(now)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return r
}

func (r *recorder) note(now time.Time, last, n int32) {
	if last < 0 || n == last {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, change{at: now, from: last, to: n})
}

func (r *recorder) noteShed(now time.Time) {
	r.mu.Lock()
	armed := r.armed && r.shedAt.IsZero()
	base := r.base
	r.mu.Unlock()
	if armed && r.w.overloadRejected() > base {
		r.mu.Lock()
		r.shedAt = now
		r.mu.Unlock()
	}
}

// arm starts watching for the first overload 503 from now on; it returns the time.
func (r *recorder) arm() time.Time {
	base := r.w.overloadRejected()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed, r.shedAt, r.base = true, time.Time{}, base
	return time.Now()
}

// snapshot returns the changes so far and the first shedding time since arm.
func (r *recorder) snapshot() ([]change, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change(nil), r.changes...), r.shedAt
}

// waitChange waits until a change after since is recorded and returns it.
func (r *recorder) waitChange(ctx context.Context, t *testing.T, since time.Time, timeout time.Duration, what string) change {
	t.Helper()
	return r.waitChangeWhere(ctx, t, since, timeout, what, func(change) bool { return true })
}

// waitChangeWhere waits until a change after since for which match holds is recorded.
func (r *recorder) waitChangeWhere(ctx context.Context, t *testing.T, since time.Time, timeout time.Duration, what string, match func(change) bool) change {
	t.Helper()
	var got change
	eventually(ctx, t, timeout, what, func(context.Context) (bool, error) {
		changes, _ := r.snapshot()
		for _, c := range changes {
			if c.at.After(since) && match(c) {
				got = c
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// load is open-loop h5pyd-like traffic (bench/loadgen) at the running pods, at a total rate that
// can change at any time; targets follow the running pods.
type load struct {
	gen    *loadgen.Generator
	rate   atomic.Uint64 // math.Float64bits of requests/s
	pinned atomic.Bool   // targets set by pin, no longer following the pods
}

// pin sends the load to urls only from now on.
func (l *load) pin(urls []string) {
	l.pinned.Store(true)
	l.gen.SetTargets(urls)
}

func (w *workload) startLoad(t *testing.T, rate float64) *load {
	t.Helper()
	// h5pyd's schedule (0, 2, 4, 8 s ...) with 4 retries instead of 10: retry waves of shed
	// requests end 14 s after an overload instead of minutes, so scale-down scenarios stay short.
	retry := loadgen.H5pydRetry()
	retry.Retries = 4
	gen, err := loadgen.New(loadgen.Config{
		Targets:        []string{"http://127.0.0.1:1"}, // replaced at once below
		Mix:            []loadgen.Request{{Method: http.MethodGet, Path: "/datasets/d-1/value?chunks=2", Weight: 1}},
		Retry:          retry,
		MaxOutstanding: 2000,
		Timeout:        5 * time.Second,
		Seed:           7,
		// No keep-alive: HSDS counts idle connections as tasks, which would hold utilization up.
		Client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := &load{gen: gen}
	l.set(rate)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	refresh := func() {
		if urls := w.kubelet.ClientURLs(); len(urls) > 0 && !l.pinned.Load() {
			gen.SetTargets(urls)
		}
	}
	refresh()
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				refresh()
			}
		}
	})
	wg.Go(func() {
		gen.Run(ctx, time.Hour, func(time.Duration) float64 { return l.get() })
	})
	return l
}

func (l *load) set(rate float64) { l.rate.Store(math.Float64bits(rate)) }
func (l *load) get() float64     { return math.Float64frombits(l.rate.Load()) }

// policyFile writes a ScalingPolicy for ns/hsds with short windows (scenarios finish in seconds)
// and returns its path. policy and guards override single fields. catchUpHorizon is the load
// generator's: 4 retries, waits 0, 2, 4, 8 s (a rescale's turned-away clients are back in ~14 s).
func policyFile(t *testing.T, ns string, policy, guards map[string]any) string {
	t.Helper()
	p := map[string]any{
		"minReplicas": 1, "maxReplicas": 8,
		"shortWindow": "10s", "overloadSustain": "1s", "podCapacity": podCapacity, "fanoutShare": 0,
		"podStartupTime": "2s", "stabilizationWindow": "8s", "dwellUp": "0s", "dwellDown": "3s",
		"catchUpHorizon": "15s",
	}
	g := map[string]any{"tick": "1s", "settle": "3s", "pendingTimeout": "60s", "hpaCheckInterval": "2s", "maxSampleAge": "5s"}
	for k, v := range policy {
		p[k] = v
	}
	for k, v := range guards {
		g[k] = v
	}
	doc := map[string]any{
		"apiVersion": "hsds-autoscaler.io/v1alpha1", "kind": "ScalingPolicy", "metadata": map[string]any{"name": "hsds"},
		"spec": map[string]any{
			"target": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": "hsds"},
			"policy": p, "guards": g,
		},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveArgs are the flags of a serve that watches ns and scales by policy, leader election off,
// rate windows 10 s (long) and 5 s (short) instead of 30 s and 10 s, so that the 503s of an
// overload leave the figures within seconds.
func serveArgs(ns, policy string, extra ...string) []string {
	return append([]string{"--hsds-namespaces=" + ns, "--policy=" + policy, "--leader-elect=false",
		"--rate-window=10s", "--short-rate-window=5s"}, extra...)
}

// events returns the messages of the Events with reason on the hsds Deployment, oldest first,
// each repeated Count times.
func events(ctx context.Context, ns, reason string) ([]string, error) {
	list, err := cluster.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Deployment,involvedObject.name=hsds,reason=" + reason,
	})
	if err != nil {
		return nil, err
	}
	items := list.Items
	sort.SliceStable(items, func(i, j int) bool { return items[i].FirstTimestamp.Before(&items[j].FirstTimestamp) })
	var msgs []string
	for _, e := range items {
		for range max(1, e.Count) { // an aggregated repeat is a repeated write
			msgs = append(msgs, e.Message)
		}
	}
	return msgs, nil
}

// waitEvent waits for an Event with reason on the Deployment and returns its messages.
func waitEvent(ctx context.Context, t *testing.T, ns, reason string, timeout time.Duration) []string {
	t.Helper()
	var msgs []string
	eventually(ctx, t, timeout, "Event "+reason, func(ctx context.Context) (bool, error) {
		var err error
		msgs, err = events(ctx, ns, reason)
		return err == nil && len(msgs) > 0, nil
	})
	return msgs
}

// rescaleChain parses "scaled from A to B" Event messages and checks that each starts where the
// previous ended: no duplicate or conflicting write.
func rescaleChain(t *testing.T, msgs []string, start int32) {
	t.Helper()
	prev := start
	for _, m := range msgs {
		var from, to int32
		i := strings.Index(m, "scaled from ")
		if i < 0 {
			t.Errorf("Rescaled Event %q: no 'scaled from'", m)
			continue
		}
		if _, err := fmt.Sscanf(m[i:], "scaled from %d to %d", &from, &to); err != nil {
			t.Errorf("Rescaled Event %q: %v", m, err)
			continue
		}
		if from != prev || from == to {
			t.Errorf("Rescaled Event %q: from %d, want %d (previous write's target) and a change", m, from, prev)
		}
		prev = to
	}
}
