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
	ips      *controlplane.IPPool

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	cancel  context.CancelFunc
	wg      sync.WaitGroup

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
	ips := cfg.IPs
	if ips == nil {
		ips = controlplane.NewIPPool()
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
		cfg: cfg, selector: sel, client: client, status: controlplane.Kubelet{Client: client}, ips: ips, slots: slots,
		pods: map[string]*Pod{}, starting: map[string]time.Time{}, waiting: map[string]time.Time{},
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
	return k, nil
}

// Start runs the pod informer and the worker until ctx ends or Stop is called, and returns once
// the informer has synced.
func (k *Kubelet) Start(ctx context.Context) error {
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
	k.wg.Go(func() {
		for k.processNext(ctx) {
		}
	})
	klog.InfoS("Fake kubelet started", "namespace", k.cfg.Namespace, "selector", k.cfg.Selector, "slots", k.cfg.Slots)
	return nil
}

// Stop stops the informer, the worker and every pod's fake HSDS and agent, and waits for them.
// Pod objects in the cluster are left as they are.
func (k *Kubelet) Stop() {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
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
	for _, p := range pods {
		p.stop()
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

// Unschedulable returns the pods waiting for a slot, sorted by name.
func (k *Kubelet) Unschedulable() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var names []string
	for n := range k.waiting {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Slots returns the node's pod slots (-1: unlimited).
func (k *Kubelet) Slots() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.slots
}

// AddSlots adds n pod slots (n may be negative: running pods are never evicted) and retries the
// waiting pods. It does nothing with unlimited slots.
func (k *Kubelet) AddSlots(n int) {
	k.mu.Lock()
	if k.slots >= 0 {
		k.slots = max(0, k.slots+n)
	}
	k.mu.Unlock()
	k.requeueWaiting()
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

// sync brings pod name in line: gone pods are stopped, new ones placed, started or left waiting.
func (k *Kubelet) sync(ctx context.Context, name string) error {
	pod, err := k.lister.Pods(k.cfg.Namespace).Get(name)
	// The label check guards against watches that do not filter (client-go's fake clientset).
	if apierrors.IsNotFound(err) || (err == nil && (pod.DeletionTimestamp != nil || !k.selector.Matches(labels.Set(pod.Labels)))) {
		k.remove(name)
		return nil
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

// place decides for a pod not running yet: placed (it holds a slot) or not, and how long it must
// still wait (start delay, or the cluster autoscaler's delay) before the next look.
func (k *Kubelet) place(name string, now time.Time) (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.pods[name]; ok {
		return 0, true
	}
	since, ok := k.starting[name]
	if !ok {
		if !k.freeSlotLocked() {
			return k.waitForCapacityLocked(name, now)
		}
		since = now
		k.starting[name] = now
		delete(k.waiting, name)
	}
	if left := k.cfg.StartDelay - now.Sub(since); left > 0 {
		return left, true
	}
	return 0, true
}

// waitForCapacityLocked records a pod without a slot; once it waited ScaleUpDelay the cluster
// autoscaler adds a slot for it.
func (k *Kubelet) waitForCapacityLocked(name string, now time.Time) (time.Duration, bool) {
	since, ok := k.waiting[name]
	if !ok {
		since = now
		k.waiting[name] = now
	}
	if k.cfg.ScaleUpDelay <= 0 {
		return 0, false
	}
	if left := k.cfg.ScaleUpDelay - now.Sub(since); left > 0 {
		if !ok {
			k.queue.AddAfter(name, left)
		}
		return 0, false
	}
	k.slots++
	klog.InfoS("Fake cluster autoscaler added a pod slot", "pod", klog.KRef(k.cfg.Namespace, name), "slots", k.slots)
	delete(k.waiting, name)
	k.starting[name] = now
	if k.cfg.StartDelay > 0 {
		return k.cfg.StartDelay, true
	}
	return 0, true
}

func (k *Kubelet) freeSlotLocked() bool {
	return k.slots < 0 || len(k.pods)+len(k.starting) < k.slots
}

// markUnschedulable writes PodScheduled=False/Unschedulable unless the pod already says so.
func (k *Kubelet) markUnschedulable(ctx context.Context, pod *corev1.Pod) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return nil
		}
	}
	klog.InfoS("Fake kubelet: no free pod slot", "pod", klog.KObj(pod))
	return k.status.SetUnschedulable(ctx, pod.Namespace, pod.Name, UnschedulableMessage)
}

// run starts the pod's fake HSDS and agent, annotates the agent port, and reports it Running.
// On an API error the processes are stopped again (the slot stays held) and the caller retries.
func (k *Kubelet) run(ctx context.Context, pod *corev1.Pod) error {
	ip, err := k.ips.Get(pod.Name)
	if err != nil {
		return err
	}
	p, err := startPod(k.cfg, pod.Name, ip)
	if err != nil {
		return err
	}
	if err := k.report(ctx, pod, p); err != nil {
		p.stop()
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// Stop collects the pods only after this worker has returned: nothing leaks.
	delete(k.starting, pod.Name)
	k.pods[pod.Name] = p
	klog.InfoS("Fake kubelet: pod running", "pod", klog.KObj(pod), "ip", ip, "sn", p.SNURL, "agent", p.AgentURL)
	return nil
}

func (k *Kubelet) report(ctx context.Context, pod *corev1.Pod, p *Pod) error {
	if k.cfg.AgentPort == 0 && pod.Annotations[AgentPortAnnotation] != fmt.Sprint(p.AgentPort) {
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AgentPortAnnotation, fmt.Sprint(p.AgentPort))
		if _, err := k.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("annotating pod %s/%s with its agent port: %w", pod.Namespace, pod.Name, err)
		}
	}
	return k.status.SetRunning(ctx, pod.Namespace, pod.Name, p.IP)
}

// remove forgets a deleted pod, stops its processes and gives its slot to a waiting pod.
func (k *Kubelet) remove(name string) {
	k.mu.Lock()
	p := k.pods[name]
	_, held := k.starting[name]
	delete(k.pods, name)
	delete(k.starting, name)
	delete(k.waiting, name)
	k.mu.Unlock()
	if p != nil {
		p.stop()
		klog.InfoS("Fake kubelet: pod stopped", "pod", klog.KRef(k.cfg.Namespace, name), "ip", p.IP)
	}
	if p != nil || held {
		k.requeueWaiting()
	}
}

// requeueWaiting queues the waiting pods, oldest first.
func (k *Kubelet) requeueWaiting() {
	k.mu.Lock()
	type w struct {
		name  string
		since time.Time
	}
	var ws []w
	for n, s := range k.waiting {
		ws = append(ws, w{n, s})
	}
	k.mu.Unlock()
	sort.Slice(ws, func(i, j int) bool {
		if !ws[i].since.Equal(ws[j].since) {
			return ws[i].since.Before(ws[j].since)
		}
		return ws[i].name < ws[j].name
	})
	for _, x := range ws {
		k.queue.Add(x.name)
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
