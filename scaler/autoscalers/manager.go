package autoscalers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// StatusWriter writes an HSDSAutoscaler's status through its status subresource.
type StatusWriter interface {
	WriteStatus(ctx context.Context, namespace, name string, status v1alpha1.HSDSAutoscalerStatus) error
}

// Handler is told about the objects: Upsert for one added or changed, Delete for one gone.
type Handler interface {
	Upsert(obj *v1alpha1.HSDSAutoscaler)
	Delete(namespace, name string)
}

// Source delivers the objects to h until ctx ends (an informer in scaler/kube).
type Source interface {
	Watch(ctx context.Context, h Handler) error
}

// LearnedWriteInterval is the least time between two status writes that change only the learned
// state (and the decision's time): a learning policy updates it on every step.
const LearnedWriteInterval = 30 * time.Second

// Manager keeps one controller per object. Deps is the template of every controller's
// collaborators (scale client, pod source, HPA lister, Events, metrics); Recommender and OnStep
// are set per object.
type Manager struct {
	deps   scaler.Deps
	status StatusWriter
	opts   Options
	clock  clock.PassiveClock

	mu      sync.Mutex
	ctx     context.Context
	running map[string]*runner
}

// runner is one object's controller and what it last wrote.
type runner struct {
	gen     int64
	bounds  [2]int32
	rec     *heuristics.HSDS // nil: the spec is invalid, no controller runs
	learned *heuristics.Learned
	cancel  context.CancelFunc
	done    chan struct{}

	// Owned by the controller's goroutine (OnStep).
	last      v1alpha1.HSDSAutoscalerStatus
	lastWrite time.Time
}

// NewManager returns a manager; deps.Scales and deps.Pods are required, as for one controller.
func NewManager(deps scaler.Deps, status StatusWriter, opts Options) *Manager {
	clk := clock.PassiveClock(clock.RealClock{})
	if deps.Clock != nil {
		clk = deps.Clock
	}
	return &Manager{deps: deps, status: status, opts: opts, clock: clk, running: map[string]*runner{}}
}

// Run watches src and runs the objects' controllers until ctx ends, then stops them all.
func (m *Manager) Run(ctx context.Context, src Source) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	err := src.Watch(ctx, m)
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, r := range m.running {
		r.stop()
		delete(m.running, key)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("watch HSDSAutoscalers: %w", err)
	}
	return nil
}

// Targets lists the objects with a running controller, "namespace/name", for logs and tests.
func (m *Manager) Targets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for key, r := range m.running {
		if r.rec != nil {
			out = append(out, key)
		}
	}
	return out
}

// Upsert implements Handler: a new object starts a controller, a new generation rebuilds it
// (what the old one learned carried over); the manager's own status writes change nothing.
func (m *Manager) Upsert(obj *v1alpha1.HSDSAutoscaler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return
	}
	key := obj.Namespace + "/" + obj.Name
	old := m.running[key]
	if old != nil && old.gen == obj.Generation {
		return
	}
	learned := m.learnedOf(old, obj)
	if old != nil {
		old.stop()
		delete(m.running, key)
	}
	r, err := m.start(obj, learned)
	m.running[key] = r
	if err != nil {
		klog.ErrorS(err, "HSDSAutoscaler refused", "object", key, "generation", obj.Generation)
		st := invalidStatus(obj.Status, obj.Generation, m.clock.Now(), err)
		if werr := m.status.WriteStatus(m.ctx, obj.Namespace, obj.Name, st); werr != nil {
			klog.ErrorS(werr, "Writing HSDSAutoscaler status failed", "object", key)
		}
		return
	}
	klog.InfoS("HSDSAutoscaler controller started", "object", key, "generation", obj.Generation, "target", obj.Spec.ScaleTarget.Name,
		"restoredPodCapacity", podCapacity(learned))
}

// Delete implements Handler: the object's controller stops; nothing more is written.
func (m *Manager) Delete(namespace, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := namespace + "/" + name
	if r := m.running[key]; r != nil {
		r.stop()
		delete(m.running, key)
		klog.InfoS("HSDSAutoscaler controller stopped", "object", key)
	}
}

// learnedOf is what a new controller for obj starts from: what the old controller learned, else
// what obj's status saved.
func (m *Manager) learnedOf(old *runner, obj *v1alpha1.HSDSAutoscaler) *heuristics.Learned {
	if old != nil && old.rec != nil {
		old.stop() // stop before reading: the policy is the controller goroutine's
		if l, ok := old.rec.Learned(); ok {
			return &l
		}
	}
	if old != nil && old.learned != nil {
		return old.learned
	}
	if l, ok := obj.Status.Learned.Heuristics(); ok {
		return &l
	}
	return nil
}

// start builds and starts obj's controller; on an invalid spec the runner holds no controller.
func (m *Manager) start(obj *v1alpha1.HSDSAutoscaler, learned *heuristics.Learned) (*runner, error) {
	r := &runner{gen: obj.Generation, learned: learned, last: *obj.Status.DeepCopy(), done: make(chan struct{})}
	close(r.done)
	cfg, rec, err := build(obj, m.opts)
	if err != nil {
		return r, err
	}
	if learned != nil {
		if err := rec.Restore(*learned); err != nil {
			klog.ErrorS(err, "Ignoring the saved learned state", "object", obj.Namespace+"/"+obj.Name)
		}
	}
	deps := m.deps
	deps.Recommender = rec
	key := obj.Namespace + "/" + obj.Name
	deps.OnStep = func(o scaler.Outcome, stepErr error) { m.report(r, obj.Namespace, obj.Name, o, stepErr) }
	ctrl, err := scaler.NewController(cfg, deps)
	if err != nil {
		return r, err
	}
	r.rec, r.bounds = rec, [2]int32{cfg.MinReplicas, cfg.MaxReplicas}
	ctx, cancel := context.WithCancel(m.ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		if err := ctrl.Run(ctx); err != nil {
			klog.ErrorS(err, "HSDSAutoscaler controller ended", "object", key)
		}
		if m.ctx.Err() != nil { // serve stops or loses the lease: save what was learned since
			m.flushLearned(r, obj.Namespace, obj.Name)
		}
	}()
	return r, nil
}

// report writes the status after a step when it changed, or when only the learned state changed
// and LearnedWriteInterval has passed. It runs on the controller's goroutine.
func (m *Manager) report(r *runner, namespace, name string, o scaler.Outcome, stepErr error) {
	st := nextStatus(r.last, r.gen, r.bounds, o, stepErr)
	if l, ok := r.rec.Learned(); ok {
		st.Learned = v1alpha1.LearnedFrom(l)
	}
	if !r.lastWrite.IsZero() && sameButTimes(st, r.last) &&
		(equalLearned(st.Learned, r.last.Learned) || o.Time.Sub(r.lastWrite) < LearnedWriteInterval) {
		return
	}
	if err := m.status.WriteStatus(m.ctx, namespace, name, st); err != nil {
		klog.ErrorS(err, "Writing HSDSAutoscaler status failed", "object", namespace+"/"+name)
		return
	}
	r.last, r.lastWrite = st, o.Time
}

// flushLearned writes the learned state if it changed since the last write (the manager is
// stopping; not on delete or rebuild). It runs on the controller's goroutine, after Run.
func (m *Manager) flushLearned(r *runner, namespace, name string) {
	l, ok := r.rec.Learned()
	if !ok || r.lastWrite.IsZero() || equalLearned(v1alpha1.LearnedFrom(l), r.last.Learned) {
		return
	}
	st := *r.last.DeepCopy()
	st.Learned = v1alpha1.LearnedFrom(l)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 5*time.Second)
	defer cancel()
	if err := m.status.WriteStatus(ctx, namespace, name, st); err != nil {
		klog.ErrorS(err, "Saving the learned state failed", "object", namespace+"/"+name)
	}
}

func equalLearned(a, b *v1alpha1.Learned) bool {
	if a == nil || b == nil {
		return a == b
	}
	ha, _ := a.Heuristics()
	hb, _ := b.Heuristics()
	return ha.Same(hb)
}

func podCapacity(l *heuristics.Learned) float64 {
	if l == nil {
		return 0
	}
	return l.PodCapacity
}

// stop cancels the controller and waits for its goroutine (and so its last status write).
func (r *runner) stop() {
	if r.cancel != nil {
		r.cancel()
	}
	<-r.done
}
