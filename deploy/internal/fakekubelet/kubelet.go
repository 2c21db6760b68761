package fakekubelet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// UnschedulableMessage is the PodScheduled=False message of a pod that did not fit.
const UnschedulableMessage = "0/1 nodes are available: 1 Too many pods (fakekubelet: no free pod slot)."

// Kubelet is the fake node. Start it once; Stop it once (Stop is idempotent).
type Kubelet struct {
	cfg      Config
	selector labels.Selector
	client   kubernetes.Interface
	status   controlplane.Kubelet
	rt       runtime // nil until Start in ModeReal

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	probes  sync.WaitGroup // readiness probers
	stop    sync.Once
	done    chan struct{} // closed when Stop has finished

	mu       sync.Mutex
	slots    int                  // < 0: unlimited
	pods     map[string]*Pod      // running
	starting map[string]time.Time // holding a slot, not yet running
	waiting  map[string]time.Time // unschedulable since
	stopped  bool
}

// New builds a Kubelet for client; nothing runs until Start.
func New(client kubernetes.Interface, cfg Config) (*Kubelet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid fakekubelet config: %w", err)
	}
	slots := cfg.Slots
	if slots <= 0 {
		slots = -1
	}
	sel, err := labels.Parse(cfg.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", cfg.Selector, err)
	}
	k := &Kubelet{
		cfg: cfg, selector: sel, client: client, status: controlplane.Kubelet{Client: client}, slots: slots,
		done: make(chan struct{}), pods: map[string]*Pod{}, starting: map[string]time.Time{}, waiting: map[string]time.Time{},
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 2*time.Second)),
	}
	k.factory = informers.NewSharedInformerFactoryWithOptions(client, cfg.Resync, informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = cfg.Selector }))
	inf := k.factory.Core().V1().Pods()
	k.lister, k.synced = inf.Lister(), inf.Informer().HasSynced
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			_, name, _ := cache.SplitMetaNamespaceKey(key)
			k.queue.Add(name)
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: enqueue,
	}); err != nil {
		return nil, fmt.Errorf("add pod handler: %w", err)
	}
	if cfg.mode() == ModeFake {
		ips := cfg.IPs
		if ips == nil {
			ips = controlplane.NewIPPool()
		}
		k.rt = &fakeRuntime{cfg: cfg, ips: ips}
	}
	return k, nil
}

// Start runs the pod informer and the workers until ctx ends or Stop is called, and returns once
// the informer has synced. In ModeReal it first removes the leftovers of killed runs and makes the
// pod network (RealConfig).
func (k *Kubelet) Start(ctx context.Context) error {
	if k.rt == nil {
		rt, err := newRealRuntime(ctx, k.client, k.cfg)
		if err != nil {
			return fmt.Errorf("fakekubelet: %w", err)
		}
		rt.publish = k.report
		k.rt = rt
		if k.cfg.Real.StopOnSignal {
			k.stopOnSignal()
		}
	}
	ctx, k.cancel = context.WithCancel(ctx)
	k.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), k.synced) {
		k.Stop()
		return fmt.Errorf("fakekubelet: pod informer did not sync: %w", context.Cause(ctx))
	}
	k.wg.Go(func() {
		<-ctx.Done()
		k.queue.ShutDown()
	})
	for range k.cfg.workers() {
		k.wg.Go(func() {
			for k.processNext(ctx) {
			}
		})
	}
	klog.InfoS("Fake kubelet started", "mode", k.cfg.mode(), "namespace", k.cfg.Namespace, "selector", k.cfg.Selector, "slots", k.cfg.Slots)
	return nil
}

// Stop stops the informer, the workers and every pod's processes, and waits for them. In ModeReal
// it then takes its finalizer off the pods and removes the pod network and the run directory.
// Pod objects are otherwise left as they are. Stop is idempotent; a second caller waits for the
// first to finish.
func (k *Kubelet) Stop() {
	k.stop.Do(func() {
		defer close(k.done)
		k.mu.Lock()
		k.stopped = true
		k.mu.Unlock()
		if k.cancel != nil {
			k.cancel()
		}
		k.queue.ShutDown()
		k.wg.Wait()
		k.factory.Shutdown()
		k.mu.Lock()
		pods := k.pods
		k.pods = map[string]*Pod{}
		k.mu.Unlock()
		k.stopPods(pods)
		if k.rt == nil {
			return
		}
		if k.cfg.mode() == ModeReal {
			k.releaseFinalizers()
		}
		if err := k.rt.close(); err != nil {
			klog.ErrorS(err, "Fake kubelet: cleaning up")
		}
	})
}

// SetStartDelayAfterIP sets RealConfig.StartDelayAfterIP for the pods started from now on
// (ModeReal, after Start; otherwise it does nothing).
func (k *Kubelet) SetStartDelayAfterIP(d time.Duration) {
	if rt, ok := k.rt.(*realRuntime); ok {
		rt.delayAfter.Store(int64(max(d, 0)))
	}
}

// Pods returns the running pods, sorted by name.
func (k *Kubelet) Pods() []*Pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*Pod, 0, len(k.pods))
	for _, p := range k.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Pod returns the running pod name, or nil.
func (k *Kubelet) Pod(name string) *Pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pods[name]
}

// ClientURLs returns where clients send requests, one per running pod (Pod.ClientURL), sorted by
// pod name: what a load generator targets.
func (k *Kubelet) ClientURLs() []string {
	var urls []string
	for _, p := range k.Pods() {
		urls = append(urls, p.ClientURL())
	}
	return urls
}

func (k *Kubelet) processNext(ctx context.Context) bool {
	name, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(name)
	if err := k.sync(ctx, name); err != nil {
		if ctx.Err() == nil {
			klog.InfoS("Fake kubelet retries pod", "pod", klog.KRef(k.cfg.Namespace, name), "err", err)
		}
		k.queue.AddRateLimited(name)
		return true
	}
	k.queue.Forget(name)
	return true
}

// sync brings pod name in line: gone pods are stopped (and in ModeReal then released from the
// finalizer), new ones placed, started or left waiting.
func (k *Kubelet) sync(ctx context.Context, name string) error {
	pod, err := k.lister.Pods(k.cfg.Namespace).Get(name)
	// The label check guards against watches that do not filter (client-go's fake clientset).
	if apierrors.IsNotFound(err) || (err == nil && (pod.DeletionTimestamp != nil || !k.selector.Matches(labels.Set(pod.Labels)))) {
		k.remove(name, k.grace(pod)) // pod is nil when gone
		return k.finalize(ctx, pod)
	}
	if err != nil {
		return err
	}
	wait, placed := k.place(name, time.Now())
	switch {
	case wait > 0:
		k.queue.AddAfter(name, wait)
		return nil
	case !placed:
		return k.markUnschedulable(ctx, pod)
	}
	if k.Pod(name) != nil {
		return nil
	}
	return k.run(ctx, pod)
}

// run starts the pod's processes (in ModeReal after adding the finalizer), annotates the agent
// port, and reports it Running (in ModeReal not Ready: a prober follows the SN's state). On an
// API error the processes are stopped again (the slot stays held) and the caller retries.
func (k *Kubelet) run(ctx context.Context, pod *corev1.Pod) error {
	if k.cfg.mode() == ModeReal {
		if err := k.addFinalizer(ctx, pod); err != nil {
			return err
		}
	}
	start := time.Now()
	p, err := k.rt.start(ctx, pod)
	if err != nil {
		return err
	}
	p.ready.Store(!k.rt.probes())
	if err := k.report(ctx, pod, p); err != nil {
		_ = k.rt.stop(p, 0)
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// Stop collects the pods only after this worker has returned: nothing leaks.
	delete(k.starting, pod.Name)
	k.pods[pod.Name] = p
	if k.rt.probes() {
		k.startProber(p)
	}
	klog.InfoS("Fake kubelet: pod running", "pod", klog.KObj(pod), "ip", p.IP, "sn", p.SNURL, "agent", p.AgentURL,
		"started", time.Since(start).Round(time.Millisecond))
	return nil
}

func (k *Kubelet) report(ctx context.Context, pod *corev1.Pod, p *Pod) error {
	if k.cfg.AgentPort == 0 && pod.Annotations[AgentPortAnnotation] != fmt.Sprint(p.AgentPort) {
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AgentPortAnnotation, fmt.Sprint(p.AgentPort))
		if _, err := k.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("annotating pod %s/%s with its agent port: %w", pod.Namespace, pod.Name, err)
		}
	}
	now := metav1.Now()
	return k.status.SetStatus(ctx, pod.Namespace, pod.Name, func(cur *corev1.Pod) corev1.PodStatus { return runningStatus(cur, p, now) })
}

// remove forgets a deleted pod, stops its processes (giving them grace) and gives its slot to a
// waiting pod.
func (k *Kubelet) remove(name string, grace time.Duration) {
	k.mu.Lock()
	p := k.pods[name]
	_, held := k.starting[name]
	delete(k.pods, name)
	delete(k.starting, name)
	delete(k.waiting, name)
	k.mu.Unlock()
	if p != nil {
		k.stopPod(p, grace)
		klog.InfoS("Fake kubelet: pod stopped", "pod", klog.KRef(k.cfg.Namespace, name), "ip", p.IP)
	}
	if p != nil || held {
		k.requeueWaiting()
	}
}

// ErrStopped is returned by WaitRunning when the Kubelet stops first.
var ErrStopped = errors.New("fakekubelet stopped")

// WaitRunning waits until exactly n pods are running (and none is starting), or ctx ends.
func (k *Kubelet) WaitRunning(ctx context.Context, n int) ([]*Pod, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		k.mu.Lock()
		got, starting, stopped := len(k.pods), len(k.starting), k.stopped
		k.mu.Unlock()
		if stopped {
			return nil, ErrStopped
		}
		if got == n && starting == 0 {
			return k.Pods(), nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d running pods (have %d, %d starting): %w", n, got, starting, ctx.Err())
		case <-t.C:
		}
	}
}
