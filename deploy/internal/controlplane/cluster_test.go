package controlplane

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartFailureCleansUp: a component that dies at start-up yields an error carrying its log,
// and Start leaves no directory behind.
func TestStartFailureCleansUp(t *testing.T) {
	bin := t.TempDir()
	for _, b := range kubeBinaries {
		writeExec(t, filepath.Join(bin, b), 0o755)
	}
	etcd := filepath.Join(bin, "etcd")
	if err := os.WriteFile(etcd, []byte("#!/bin/sh\necho 'etcd: cannot start (test)' >&2\nexit 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	cfg := DefaultConfig()
	cfg.BinDir, cfg.TempDir, cfg.Keep, cfg.StartTimeout = bin, parent, false, 10*time.Second
	c, err := Start(context.Background(), cfg)
	if err == nil {
		_ = c.Stop()
		t.Fatal("Start succeeded with a failing etcd")
	}
	for _, want := range []string{"etcd exited early", "etcd: cannot start (test)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error lacks %q:\n%v", want, err)
		}
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("Start left %d entries in %s", len(left), parent)
	}
}

func TestStartInvalidConfig(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Errorf("Start(Config{}) = %v, want an invalid config error", err)
	}
}

func TestStopIdempotent(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProcess("sleeper", "/bin/sh", []string{"-c", "exec sleep 30"}, nil, filepath.Join(dir, "s.log"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Dir: filepath.Join(dir, "cluster"), cfg: DefaultConfig(), procs: map[string]*Process{ComponentEtcd: p}}
	if err := os.Mkdir(c.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	if !p.Exited() {
		t.Error("process still running after Stop")
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("cluster dir still exists: %v", err)
	}
	if err := c.RestartAPIServer(context.Background()); err == nil {
		t.Error("RestartAPIServer on a stopped cluster = nil, want an error")
	}
}
