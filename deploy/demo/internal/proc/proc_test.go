package proc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func start(t *testing.T, script string) *Process {
	t.Helper()
	log := filepath.Join(t.TempDir(), "p.log")
	p, err := Start("test", "/bin/sh", []string{"-c", script}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	return p
}

func TestStopTerminates(t *testing.T) {
	p := start(t, "echo started; exec sleep 30")
	waitFor(t, func() bool {
		data, _ := os.ReadFile(p.Log)
		return strings.Contains(string(data), "started")
	}, "the output in the log")
	if exited, _ := p.Exited(); exited {
		t.Fatal("exited at once")
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if exited, _ := p.Exited(); !exited {
		t.Error("still running after Stop")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	// The shell ignores SIGTERM and so does its child: only the group SIGKILL ends them.
	p := start(t, `trap "" TERM; echo trapped; sleep 30 & wait`)
	waitFor(t, func() bool {
		data, _ := os.ReadFile(p.Log)
		return strings.Contains(string(data), "trapped")
	}, "the trap")
	began := time.Now()
	if err := p.Stop(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("stopped after %s, before the SIGKILL timeout", d)
	}
	// The orphaned sleep is reaped by init shortly after the SIGKILL.
	waitFor(t, func() bool { return syscall.Kill(-p.Pid(), 0) != nil }, "the process group to be gone")
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := Start("x", "/nonexistent/binary", nil, filepath.Join(t.TempDir(), "x.log")); err == nil {
		t.Error("no error for a missing binary")
	}
}
