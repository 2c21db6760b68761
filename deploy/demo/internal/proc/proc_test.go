package proc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
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
	testwait.For(t, "the output in the log", func() bool {
		data, _ := os.ReadFile(p.Log)
		return strings.Contains(string(data), "started")
	})
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

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	// The shell ignores SIGTERM and so does its child: only the group SIGKILL ends them.
	p := start(t, `trap "" TERM; echo trapped; sleep 30 & wait`)
	testwait.For(t, "the trap", func() bool {
		data, _ := os.ReadFile(p.Log)
		return strings.Contains(string(data), "trapped")
	})
	began := time.Now()
	if err := p.Stop(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("stopped after %s, before the SIGKILL timeout", d)
	}
	// The orphaned sleep is reaped by init shortly after the SIGKILL.
	testwait.For(t, "the process group to be gone", func() bool { return syscall.Kill(-p.Pid(), 0) != nil })
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := Start("x", "/nonexistent/binary", nil, filepath.Join(t.TempDir(), "x.log")); err == nil {
		t.Error("no error for a missing binary")
	}
}
