package fakekubelet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

const ns = "hsds"

func testConfig() Config {
	cfg := DefaultConfig(ns)
	cfg.HSDS.ServiceTime = fakehsds.Fixed(time.Millisecond)
	cfg.Agent.PollInterval = 100 * time.Millisecond
	return cfg
}

// startKubelet starts a Kubelet on a fake clientset; it is stopped at the end of the test.
func startKubelet(t *testing.T, cfg Config) (*Kubelet, kubernetes.Interface) {
	t.Helper()
	client := fake.NewClientset()
	k, err := New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	return k, client
}

func createPod(t *testing.T, client kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, CreationTimestamp: metav1.Now()},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "sn", Image: "hdfgroup/hsds"}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func deletePod(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	if err := client.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// podSummary is what the test checks of a pod object.
type podSummary struct {
	Phase         corev1.PodPhase
	IP            string
	Ready         bool
	Unschedulable bool
	HasPort       bool
}

func summarize(p *corev1.Pod) podSummary {
	s := podSummary{Phase: p.Status.Phase, IP: p.Status.PodIP, HasPort: p.Annotations[AgentPortAnnotation] != ""}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			s.Ready = true
		}
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			s.Unschedulable = true
		}
	}
	return s
}

// waitPods polls until the pod objects' summaries equal want.
func waitPods(t *testing.T, client kubernetes.Interface, want map[string]podSummary) {
	t.Helper()
	var got map[string]podSummary
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		got = map[string]podSummary{}
		for i := range list.Items {
			got[list.Items[i].Name] = summarize(&list.Items[i])
		}
		return cmp.Equal(want, got), nil
	})
	if err != nil {
		t.Fatalf("pods (-want +got):\n%s", cmp.Diff(want, got))
	}
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = rsp.Body.Close() }()
	b, err := io.ReadAll(rsp.Body)
	return rsp.StatusCode, string(b), err
}

var (
	running = func(ip string) podSummary {
		return podSummary{Phase: corev1.PodRunning, IP: ip, Ready: true, HasPort: true}
	}
	unschedulable = podSummary{Phase: corev1.PodPending, Unschedulable: true}
	hsdsLabels    = map[string]string{"app": "hsds"}
)

func TestSlotsUnschedulableThenFreed(t *testing.T) {
	cfg := testConfig()
	cfg.Slots = 2
	k, client := startKubelet(t, cfg)
	for _, n := range []string{"hsds-a", "hsds-b", "hsds-c"} {
		createPod(t, client, n, hsdsLabels)
		time.Sleep(20 * time.Millisecond) // creation order = placement order
	}
	createPod(t, client, "other", map[string]string{"app": "other"})
	waitPods(t, client, map[string]podSummary{
		"hsds-a": running("127.0.0.2"), "hsds-b": running("127.0.0.3"), "hsds-c": unschedulable,
		"other": {}, // not selected: untouched
	})
	if diff := cmp.Diff([]string{"hsds-c"}, k.Unschedulable()); diff != "" {
		t.Errorf("Unschedulable() (-want +got):\n%s", diff)
	}
	urls := k.ClientURLs()
	if len(urls) != 2 || !strings.HasPrefix(urls[0], "http://127.0.0.2:") || !strings.HasPrefix(urls[1], "http://127.0.0.3:") {
		t.Errorf("ClientURLs() = %v, want the SNs on 127.0.0.2 and 127.0.0.3", urls)
	}

	oldSN := k.Pod("hsds-a").SNURL
	deletePod(t, client, "hsds-a")
	waitPods(t, client, map[string]podSummary{
		"hsds-b": running("127.0.0.3"), "hsds-c": running("127.0.0.4"), "other": {},
	})
	if k.Pod("hsds-a") != nil {
		t.Error("deleted pod hsds-a still has a handle")
	}
	if _, _, err := httpGet(context.Background(), oldSN+"/about"); err == nil {
		t.Errorf("SN of deleted pod hsds-a at %s still answers", oldSN)
	}
}

func TestClusterAutoscalerAddsSlot(t *testing.T) {
	cfg := testConfig()
	cfg.Slots, cfg.ScaleUpDelay = 1, 300*time.Millisecond
	k, client := startKubelet(t, cfg)
	createPod(t, client, "hsds-a", hsdsLabels)
	waitPods(t, client, map[string]podSummary{"hsds-a": running("127.0.0.2")})
	start := time.Now()
	createPod(t, client, "hsds-b", hsdsLabels)
	waitPods(t, client, map[string]podSummary{"hsds-a": running("127.0.0.2"), "hsds-b": unschedulable})
	waitPods(t, client, map[string]podSummary{"hsds-a": running("127.0.0.2"), "hsds-b": running("127.0.0.3")})
	if took := time.Since(start); took < cfg.ScaleUpDelay {
		t.Errorf("pod hsds-b ran after %s, before the cluster autoscaler delay %s", took, cfg.ScaleUpDelay)
	}
	if got := k.Slots(); got != 2 {
		t.Errorf("Slots() = %d, want 2", got)
	}
}

func TestAddSlotsAndStartDelay(t *testing.T) {
	cfg := testConfig()
	cfg.Slots, cfg.StartDelay = 1, 200*time.Millisecond
	k, client := startKubelet(t, cfg)
	start := time.Now()
	createPod(t, client, "hsds-a", hsdsLabels)
	createPod(t, client, "hsds-b", hsdsLabels)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := k.WaitRunning(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < cfg.StartDelay {
		t.Errorf("first pod ran after %s, before the start delay %s", took, cfg.StartDelay)
	}
	k.AddSlots(1)
	pods, err := k.WaitRunning(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || pods[0].Name != "hsds-a" || pods[1].Name != "hsds-b" {
		t.Errorf("Pods() = %v, want hsds-a, hsds-b", pods)
	}
}

// TestPodHandle: the fake HSDS and the agent of a pod answer on its address; the agent reads
// its own pod; state changes reach the agent; hang and stop make it unreachable.
func TestPodHandle(t *testing.T) {
	k, client := startKubelet(t, testConfig())
	createPod(t, client, "hsds-a", hsdsLabels)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := k.WaitRunning(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := pods[0]
	obj, err := client.CoreV1().Pods(ns).Get(ctx, "hsds-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := obj.Annotations[AgentPortAnnotation], fmt.Sprint(p.AgentPort); got != want {
		t.Errorf("agent port annotation = %q, want %q", got, want)
	}
	if code, _, err := httpGet(ctx, p.SNURL+"/datasets/d/value"); err != nil || code != 200 {
		t.Fatalf("SN request = %d, %v; want 200", code, err)
	}
	if err := p.SetState("sn", "WAITING"); err != nil {
		t.Fatal(err)
	}
	waitBody(ctx, t, p.AgentURL+"/metrics", `hsds_agent_node_state{node="sn",state="READY"} 0`)
	if code, _, err := httpGet(ctx, p.SNURL+"/datasets/d/value"); err != nil || code != 503 {
		t.Fatalf("SN request while WAITING = %d, %v; want 503", code, err)
	}
	if got := p.Truth().Rejected["not_ready"]; got != 1 {
		t.Errorf("Truth().Rejected[not_ready] = %d, want 1", got)
	}

	p.SetAgentHang(true)
	hctx, hcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, _, err = httpGet(hctx, p.AgentURL+"/metrics")
	hcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("scrape of a hanging agent: err = %v, want a deadline", err)
	}
	p.SetAgentHang(false)
	if code, _, err := httpGet(ctx, p.AgentURL+"/metrics"); err != nil || code != 200 {
		t.Errorf("scrape after the hang = %d, %v; want 200", code, err)
	}
	p.StopAgent()
	waitErr(ctx, t, p.AgentURL+"/metrics")

	k.Stop()
	if _, _, err := httpGet(ctx, p.SNURL+"/about"); err == nil {
		t.Error("SN still answers after Stop")
	}
	if got := k.Pods(); len(got) != 0 {
		t.Errorf("Pods() after Stop = %v, want none", got)
	}
}

func TestProxySource(t *testing.T) {
	cfg := testConfig()
	cfg.Agent.Source = "proxy"
	k, client := startKubelet(t, cfg)
	createPod(t, client, "hsds-a", hsdsLabels)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := k.WaitRunning(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := pods[0]
	if p.ProxyURL == "" || p.ClientURL() != p.ProxyURL {
		t.Fatalf("ProxyURL = %q, ClientURL = %q; want the proxy", p.ProxyURL, p.ClientURL())
	}
	if code, _, err := httpGet(ctx, p.ClientURL()+"/datasets/d/value"); err != nil || code != 200 {
		t.Fatalf("request through the proxy = %d, %v; want 200", code, err)
	}
	waitBody(ctx, t, p.AgentURL+"/metrics", `hsds_agent_responses_total{cause="",code="200"} 1`)
}

func waitBody(ctx context.Context, t *testing.T, url, want string) {
	t.Helper()
	var body string
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		_, b, err := httpGet(ctx, url)
		body = b
		return err == nil && strings.Contains(b, want), nil
	})
	if err != nil {
		t.Fatalf("%s never contained %q; last body:\n%s", url, want, body)
	}
}

func waitErr(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		_, _, err := httpGet(ctx, url)
		return err != nil, nil
	})
	if err != nil {
		t.Fatalf("%s still answers", url)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"default", func(*Config) {}, nil},
		{"everything wrong", func(c *Config) {
			c.Namespace, c.Selector, c.StartDelay, c.SNPort = "", "a==b==c", -1, 70000
			c.HSDS.MaxTaskCount = -1
			c.Agent.Source = "nope"
		}, []string{"namespace is required", "selector", "must be >= 0", "snPort 70000", "hsds:", "agent:"}},
		{"same agent and proxy port", func(c *Config) {
			c.Agent.Source, c.AgentPort, c.ProxyPort = "proxy", 9090, 9090
		}, []string{"--proxy-listen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(ns)
			tt.edit(&cfg)
			err := cfg.Validate()
			if (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("Validate() = %v, want errors %q", err, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, missing %q", err, w)
				}
			}
		})
	}
}
