package fakekubelet

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReadyStatus(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "sn"}, {Name: "dn"}}}}
	p := &Pod{IP: "10.77.14.2", HostIP: "10.77.14.1"}
	st := runningStatus(pod, p, t0) // not ready yet
	if st.PodIP != "10.77.14.2" || len(st.PodIPs) != 1 || st.HostIP != "10.77.14.1" || st.Phase != corev1.PodRunning {
		t.Fatalf("runningStatus = %+v", st)
	}
	type cond struct {
		Status corev1.ConditionStatus
		At     int64
	}
	conds := func(st corev1.PodStatus) map[corev1.PodConditionType]cond {
		m := map[corev1.PodConditionType]cond{}
		for _, c := range st.Conditions {
			m[c.Type] = cond{c.Status, c.LastTransitionTime.Unix()}
		}
		return m
	}
	want := map[corev1.PodConditionType]cond{
		corev1.PodScheduled: {"True", 100}, corev1.PodInitialized: {"True", 100},
		corev1.ContainersReady: {"False", 100}, corev1.PodReady: {"False", 100},
	}
	if diff := cmp.Diff(want, conds(st)); diff != "" {
		t.Errorf("not ready (-want +got):\n%s", diff)
	}
	ready := readyStatus(st, true, t1)
	want[corev1.ContainersReady], want[corev1.PodReady] = cond{"True", 200}, cond{"True", 200}
	if diff := cmp.Diff(want, conds(ready)); diff != "" {
		t.Errorf("ready (-want +got):\n%s", diff)
	}
	for _, c := range ready.ContainerStatuses {
		if !c.Ready {
			t.Errorf("container %s not ready", c.Name)
		}
	}
	if again := readyStatus(ready, true, metav1.NewTime(time.Unix(300, 0))); !cmp.Equal(conds(again), want) {
		t.Error("an unchanged condition got a new transition time")
	}
	pod.Status = ready
	p.ready.Store(true)
	if got := runningStatus(pod, p, metav1.NewTime(time.Unix(300, 0))); got.StartTime.Unix() != 100 {
		t.Errorf("startTime rewritten: %v", got.StartTime)
	}
}

func TestGrace(t *testing.T) {
	k := &Kubelet{}
	sec := func(n int64) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &n}}
	}
	for _, tt := range []struct {
		pod  *corev1.Pod
		want time.Duration
	}{{nil, 10 * time.Second}, {sec(0), 2 * time.Second}, {sec(5), 5 * time.Second}, {sec(60), 10 * time.Second}} {
		if got := k.grace(tt.pod); got != tt.want {
			t.Errorf("grace(%v) = %s, want %s", tt.pod, got, tt.want)
		}
	}
}

func TestValidateReal(t *testing.T) {
	c := DefaultRealConfig(ns, "", "http://x", "")
	c.Real.CIDR, c.Real.Prefix, c.SNPort = "10.77.14.0/16", "Bad-", 80
	c.Agent.Source = "metrics"
	c.Real.StartDelayAfterIP = -time.Second
	err := c.Validate()
	for _, want := range []string{"agentBin", "apiServerURL", "caFile", "/24", "prefix", "snPort", "no /metrics", "startDelayAfterIP"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, missing %q", err, want)
		}
	}
	if err := DefaultRealConfig(ns, "a", "https://127.0.0.1:6443", "ca").Validate(); err != nil {
		t.Errorf("DefaultRealConfig: %v", err)
	}
	c = DefaultConfig(ns)
	c.Mode = "both"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `mode "both"`) {
		t.Errorf("Validate() = %v, want a mode error", err)
	}
}

func TestForwarder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "api "+r.URL.Path) }))
	defer srv.Close()
	f, err := startForwarder("127.0.0.1:0", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + f.ln.Addr().String()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "api /readyz" {
		t.Errorf("through the forwarder: %q", body)
	}
	idle, err := net.Dial("tcp", f.ln.Addr().String()) // held open: close must cut it
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	done := make(chan error, 1)
	go func() { done <- f.close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not return with a connection open")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("forwarder still accepts after close")
	}
}

func TestStopProcsKillsAfterGrace(t *testing.T) {
	dir := t.TempDir()
	stubborn, err := startProc("stubborn", []string{"/bin/sh", "-c", `trap "" TERM; echo up; while :; do sleep 1; done`}, nil, filepath.Join(dir, "s.log"))
	if err != nil {
		t.Fatal(err)
	}
	polite, err := startProc("polite", []string{"sleep", "30"}, nil, filepath.Join(dir, "p.log"))
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "s.log"), "up") // the trap is set
	start := time.Now()
	if err := stopProcs([]*proc{stubborn, polite}, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("stopProcs took %s, want about the grace (300ms)", took)
	}
	if !stubborn.Exited() || !polite.Exited() {
		t.Error("a process survived")
	}
	if err := polite.ExitError(); !strings.Contains(err.Error(), "polite exited") {
		t.Errorf("exitError() = %v", err)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never contained %q", path, want)
}
