package controlplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid exists (signal 0).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(path)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && perr == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestProcessStopKillsGroup(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   time.Duration // minimum time stop takes
	}{
		{"exits on SIGTERM", `sleep 30 & echo $! > "$1"; wait`, 0},
		{"ignores SIGTERM, gets SIGKILL", `trap "" TERM; sleep 30 & echo $! > "$1"; wait; wait`, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "child.pid")
			p, err := StartProcess("sh", "/bin/sh", []string{"-c", tt.script, "sh", pidFile}, nil, filepath.Join(dir, "sh.log"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Stop(time.Second) })
			child := readPID(t, pidFile)
			start := time.Now()
			if err := p.Stop(200 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < tt.want {
				t.Errorf("stop took %s, want at least %s", took, tt.want)
			}
			if !p.Exited() {
				t.Error("process not reaped after stop")
			}
			waitGone(t, child)
			if err := p.Stop(time.Millisecond); err != nil {
				t.Errorf("second stop = %v, want nil", err)
			}
		})
	}
}

// waitGone fails unless pid disappears shortly (the grandchild is reaped by init).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if !alive(pid) || isZombie(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("child %d of the process group still running", pid)
}

func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(data))
	return len(f) > 2 && f[2] == "Z"
}

func TestWaitHealthyReportsEarlyExitWithLog(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProcess("failing", "/bin/sh", []string{"-c", "echo boom-line; exit 3"}, nil, filepath.Join(dir, "f.log"))
	if err != nil {
		t.Fatal(err)
	}
	never := func(context.Context) error { return errors.New("not yet") }
	err = waitHealthy(context.Background(), p, 10*time.Second, never)
	if err == nil || !strings.Contains(err.Error(), "exited early") || !strings.Contains(err.Error(), "boom-line") {
		t.Fatalf("waitHealthy = %v, want an early-exit error with the log tail", err)
	}
}

func TestWaitHealthyTimeout(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProcess("sleeper", "/bin/sh", []string{"-c", "echo started; exec sleep 30"}, nil, filepath.Join(dir, "s.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	never := func(context.Context) error { return errors.New("still starting") }
	err = waitHealthy(context.Background(), p, 300*time.Millisecond, never)
	if err == nil || !strings.Contains(err.Error(), "still starting") || !strings.Contains(err.Error(), "not healthy") {
		t.Fatalf("waitHealthy = %v, want a timeout naming the last check", err)
	}
}

func TestLastLines(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "    b\n    c"},
		{"a\nb\n", 5, "    a\n    b"},
		{"", 3, "    "},
	}
	for _, tt := range tests {
		if got := lastLines([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
