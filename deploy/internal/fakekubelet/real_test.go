package fakekubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// requireReal fails (CI) or skips the test when real mode cannot run here (root, ip, unshare,
// real HSDS installed).
func requireReal(t *testing.T) {
	t.Helper()
	if err := CheckReal(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real mode cannot run on CI: %v", err)
		}
		t.Skipf("real mode cannot run here: %v", err)
	}
}

// TestRealLeftoversRemovedAtStart: a namespace, a veth link and a run directory of a killed run
// (no live bridge) are removed when a real-mode Kubelet starts; those of a live run (a bridge whose
// alias names a running process) are kept; Stop leaves nothing of its own run.
func TestRealLeftoversRemovedAtStart(t *testing.T) {
	requireReal(t)
	const prefix = "hsdst"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tmp := t.TempDir()
	dead, live := prefix+"dead-x", prefix+"beef-x"
	mustIP(ctx, t, "netns", "add", prefix+"dead-pod")
	mustIP(ctx, t, "link", "add", prefix+"dead-v9", "type", "veth", "peer", "name", prefix+"dead-v9p")
	mustIP(ctx, t, "link", "add", prefix+"beef-br", "type", "bridge")
	mustIP(ctx, t, "link", "set", "dev", prefix+"beef-br", "alias", fmt.Sprintf("%s%d", ownerAlias, os.Getpid()))
	mustIP(ctx, t, "netns", "add", prefix+"beef-pod")
	t.Cleanup(func() {
		for _, ns := range []string{prefix + "dead-pod", prefix + "beef-pod"} {
			_, _ = ip(context.Background(), "netns", "del", ns)
		}
		for _, l := range []string{prefix + "dead-v9", prefix + "beef-br"} {
			_, _ = ip(context.Background(), "link", "del", l)
		}
	})
	for _, d := range []string{dead, live} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ca := filepath.Join(tmp, "ca.crt")
	if err := os.WriteFile(ca, []byte("unused"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultRealConfig(ns, "/nonexistent/hsds-agent", "https://127.0.0.1:1", ca)
	cfg.Real.Prefix, cfg.Real.TempDir, cfg.Real.CIDR = prefix, tmp, "10.77.15.0/24"
	k, err := New(fake.NewClientset(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := FindLeftovers(ctx, prefix, tmp, true)
	if err != nil {
		t.Fatal(err)
	}
	own := k.rt.(*realRuntime).net.runID
	want := Leftovers{
		Links:      []string{prefix + "beef-br", own + "-br"},
		Namespaces: []string{prefix + "beef-pod"},
		Dirs:       []string{filepath.Join(tmp, live), k.rt.(*realRuntime).dir},
	}
	slices.Sort(l.Links)
	slices.Sort(l.Dirs)
	slices.Sort(want.Links)
	slices.Sort(want.Dirs)
	if fmt.Sprint(l) != fmt.Sprint(want) {
		t.Errorf("after Start: %+v\nwant (the live run's and our own only) %+v", l, want)
	}
	k.Stop()
	l, err = FindLeftovers(ctx, prefix, tmp, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(append(l.Links, l.Namespaces...), l.Dirs...) {
		if strings.Contains(name, own) {
			t.Errorf("after Stop %s is left", name)
		}
	}
}

func mustIP(ctx context.Context, t *testing.T, args ...string) {
	t.Helper()
	if _, err := ip(ctx, args...); err != nil {
		t.Fatal(err)
	}
}

func TestRunIDOf(t *testing.T) {
	for name, want := range map[string]string{
		"hsdsk1a2b-br": "hsdsk1a2b", "hsdsk1a2b-hsds-abc": "hsdsk1a2b", "hsdsk1a2b": "", "hsdskzzzz-br": "",
		"hsdsk1a2bc-br": "", "other1a2b-br": "", "hsdsk1a2b-v12": "hsdsk1a2b",
	} {
		if got := runIDOf("hsdsk", name); got != want {
			t.Errorf("runIDOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestAgentFlagsRoundTrip(t *testing.T) {
	o := DefaultRealConfig(ns, "a", "https://127.0.0.1:1", "c").Agent
	o.PollInterval, o.MaxTaskCount = 300*time.Millisecond, 7
	args := AgentFlags(o)
	for _, want := range []string{"--source=info", "--poll-interval=300ms", "--max-task-count=7"} {
		if !slices.Contains(args, want) {
			t.Errorf("AgentFlags() lacks %s: %v", want, args)
		}
	}
}
