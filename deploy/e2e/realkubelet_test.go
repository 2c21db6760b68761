//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// realPrefix names everything the real-mode test makes (bridge, links, namespaces, run dir).
const realPrefix = "hsdse"

// TestRealKubeletScale: the fake kubelet in real mode runs a Deployment of real HSDS 0.9.4 pods
// (Kubernetes mode, a network namespace each): 2 pods go READY with node_count 2 (seen on /info
// and through each agent's /metrics from the host), a domain written through one pod is read
// through the other, a scale to 3 and back to 2 converges, the deleted pod's processes and
// namespace are gone, and after Stop nothing with the test's prefix is left.
func TestRealKubeletScale(t *testing.T) {
	requireRealKubelet(t)
	ctx := testContext(t, 6*time.Minute)
	const ns = "e2e-real-kubelet"
	createNamespace(ctx, t, ns)
	if _, _, err := cluster.KubectlInput(ctx, nil, "apply", "-n", ns, "-f", filepath.Join(repoRoot(t), "deploy/examples/hsds/rbac.yaml")); err != nil {
		t.Fatal(err)
	}
	k := startRealKubelet(ctx, t, ns)

	created := time.Now()
	createRealDeployment(ctx, t, ns, 2)
	pods := waitConverged(ctx, t, k, 2)
	t.Logf("2 pods READY with node_count 2 after %s (from the Deployment's creation)", time.Since(created).Round(100*time.Millisecond))
	checkPodIPsManaged(ctx, t, ns, pods[0].Name)
	readThroughOtherPod(ctx, t, pods[0], pods[1])

	terminating := watchTerminating(ctx, t, ns)
	for _, step := range []int{3, 2} {
		before := k.Pods()
		start := time.Now()
		scaleTo(ctx, t, ns, step)
		after := waitConverged(ctx, t, k, step)
		t.Logf("scale to %d: every SN READY with node_count %d after %s", step, step, time.Since(start).Round(100*time.Millisecond))
		for _, gone := range departed(before, after) {
			checkPodGone(ctx, t, ns, gone)
			if !terminating(gone.Name) {
				t.Errorf("pod %s was never seen with a deletionTimestamp and the fake kubelet's finalizer", gone.Name)
			}
		}
	}
}

// watchTerminating follows the pods of ns (an informer) and returns a function that reports
// whether a pod was seen terminating (deletionTimestamp set) while still held by
// fakekubelet.Finalizer: the graceful deletion during which HSDS leaves the pod out.
func watchTerminating(ctx context.Context, t *testing.T, ns string) func(name string) bool {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	note := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok && p.DeletionTimestamp != nil && slices.Contains(p.Finalizers, fakekubelet.Finalizer) {
			mu.Lock()
			seen[p.Name] = true
			mu.Unlock()
		}
	}
	f := informers.NewSharedInformerFactoryWithOptions(cluster.Client, 0, informers.WithNamespace(ns))
	if _, err := f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: note, UpdateFunc: func(_, obj any) { note(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); f.Shutdown() })
	f.Start(stop)
	f.WaitForCacheSync(ctx.Done())
	return func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[name]
	}
}

// requireRealKubelet fails on CI, and skips elsewhere, when real mode cannot run here.
func requireRealKubelet(t *testing.T) {
	t.Helper()
	if err := fakekubelet.CheckReal(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real HSDS pods cannot run on CI: %v", err)
		}
		t.Skipf("real HSDS pods cannot run here: %v", err)
	}
}

// startRealKubelet builds hsds-agent and starts a real-mode fake kubelet for ns; when the test
// ends it is stopped and nothing with realPrefix may be left.
func startRealKubelet(ctx context.Context, t *testing.T, ns string) *fakekubelet.Kubelet {
	t.Helper()
	return startRealKubeletWith(ctx, t, ns, realPrefix, nil)
}

// startRealKubeletWith is startRealKubelet with names starting with prefix and edit applied to
// the config (a test that may run beside another real-mode test gives its own Real.CIDR).
func startRealKubeletWith(ctx context.Context, t *testing.T, ns, prefix string, edit func(*fakekubelet.Config)) *fakekubelet.Kubelet {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hsds-agent")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hsds-agent")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hsds-agent: %v\n%s", err, out)
	}
	cfg := fakekubelet.DefaultRealConfig(ns, bin, cluster.APIServerURL, cluster.PKI.ServingCA)
	cfg.Real.Prefix, cfg.Real.StopOnSignal = prefix, true
	cfg.Real.LogDir = t.TempDir()
	cfg.Agent.PollInterval = 250 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	k, err := fakekubelet.New(cluster.Client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkNothingLeft(t, prefix) })
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range k.Pods() {
				t.Log(p.Logs(15))
			}
		}
		k.Stop()
	})
	return k
}

func checkNothingLeft(t *testing.T, prefix string) {
	l, err := fakekubelet.FindLeftovers(context.Background(), prefix, "", true)
	if err != nil {
		t.Error(err)
		return
	}
	if !l.Empty() {
		t.Errorf("left after Stop: %+v", l)
	}
}

func createRealDeployment(ctx context.Context, t *testing.T, ns string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": "hsds"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hsds", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "hsds",
					Containers: []corev1.Container{
						{Name: "sn", Image: "hdfgroup/hsds:v0.9.4"}, {Name: "dn", Image: "hdfgroup/hsds:v0.9.4"},
						{Name: "hsds-agent", Image: "hsds-agent"},
					},
					TerminationGracePeriodSeconds: ptr(int64(5)),
				},
			},
		},
	}
	if _, err := cluster.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func scaleTo(ctx context.Context, t *testing.T, ns string, n int) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
	if _, err := cluster.Client.AppsV1().Deployments(ns).Patch(ctx, "hsds", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// nodeInfo is what the test reads of /info.
type nodeInfo struct {
	Node struct {
		State     string `json:"state"`
		NodeCount int    `json:"node_count"`
	} `json:"node"`
}

// waitConverged waits until the kubelet runs n Ready pods and every SN and DN says READY with
// node_count n on /info, and each agent's /metrics says so too (the host reaching the pods over
// the bridge, as the collector does).
func waitConverged(ctx context.Context, t *testing.T, k *fakekubelet.Kubelet, n int) []*fakekubelet.Pod {
	t.Helper()
	var last string
	pods := []*fakekubelet.Pod{}
	eventually(ctx, t, 120*time.Second, fmt.Sprintf("%d READY pods with node_count %d", n, n), func(ctx context.Context) (bool, error) {
		pods = k.Pods()
		last = converged(ctx, pods, n)
		return last == "", nil
	})
	if last != "" {
		t.Fatalf("not converged: %s", last)
	}
	return pods
}

// converged returns what is not yet converged, or "".
func converged(ctx context.Context, pods []*fakekubelet.Pod, n int) string {
	if len(pods) != n {
		return fmt.Sprintf("%d pods running", len(pods))
	}
	for _, p := range pods {
		for _, u := range []string{p.SNURL, p.DNURL} {
			var in nodeInfo
			if err := getJSON(ctx, u+"/info", &in); err != nil {
				return err.Error()
			}
			if in.Node.State != "READY" || in.Node.NodeCount != n {
				return fmt.Sprintf("%s: %s node_count %d", u, in.Node.State, in.Node.NodeCount)
			}
		}
		body, err := get(ctx, p.AgentURL+"/metrics")
		if err != nil {
			return err.Error()
		}
		for _, want := range []string{`hsds_agent_node_state{node="sn",state="READY"} 1`, fmt.Sprintf("hsds_agent_data_nodes %d", n)} {
			if !strings.Contains(body, want) {
				return fmt.Sprintf("%s/metrics lacks %s", p.AgentURL, want)
			}
		}
		if !p.Ready() {
			return p.Name + " not Ready"
		}
	}
	return ""
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Close = true // no idle connection holding an SN task slot
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b), err
}

func getJSON(ctx context.Context, url string, v any) error {
	body, err := get(ctx, url)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(body), v)
}

// checkPodIPsManaged: the pod's managedFields hold f:status f:podIPs (what HSDS reads).
func checkPodIPsManaged(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	pod, err := cluster.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range pod.ManagedFields {
		if m.Subresource == "status" && m.FieldsV1 != nil && strings.Contains(m.FieldsV1.GetRawString(), `"f:podIPs"`) {
			return
		}
	}
	t.Errorf("pod %s: no managedFields entry of the status subresource with f:podIPs", name)
}

// readThroughOtherPod writes a domain through a's SN and reads it through b's: one SN->DN round
// trip between pods over the bridge.
func readThroughOtherPod(ctx context.Context, t *testing.T, a, b *fakekubelet.Pod) {
	t.Helper()
	hsdsDo(ctx, t, http.MethodPut, a.SNURL+"/?domain=/home", `{"folder":true}`, nil)
	hsdsDo(ctx, t, http.MethodPut, a.SNURL+"/?domain=/home/load.h5", "", nil)
	hsdsDo(ctx, t, http.MethodPut, a.SNURL+"/acls/default?domain=/home/load.h5", `{"read":true}`, nil)
	if _, err := get(ctx, b.SNURL+"/?domain=/home/load.h5"); err != nil {
		t.Fatalf("domain GET through the other pod: %v", err)
	}
}

// departed returns the pods of before that are not in after.
func departed(before, after []*fakekubelet.Pod) []*fakekubelet.Pod {
	in := map[string]bool{}
	for _, p := range after {
		in[p.Name] = true
	}
	var out []*fakekubelet.Pod
	for _, p := range before {
		if !in[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// checkPodGone: a deleted pod's processes have ended, its namespace is gone, and its object too
// (the finalizer was taken off).
func checkPodGone(ctx context.Context, t *testing.T, ns string, p *fakekubelet.Pod) {
	t.Helper()
	eventually(ctx, t, 30*time.Second, "pod "+p.Name+" stopped, its namespace and object gone", func(ctx context.Context) (bool, error) {
		for _, pid := range p.PIDs() {
			if syscall.Kill(pid, 0) == nil {
				return false, nil
			}
		}
		out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
		if err != nil || strings.Contains(string(out), p.Netns) {
			return false, err
		}
		_, err = cluster.Client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
