package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// Process is one child program in its own process group, its output appended to a log file
// (the control plane's components, and the fake kubelet's real HSDS nodes and agents).
type Process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // valid after done is closed
}

// StartProcess starts path with args in a new process group, with env added to this process's
// environment. The child is also killed if the thread that started it dies (Pdeathsig), so a
// crashed test leaves nothing behind.
func StartProcess(name, path string, args, env []string, logPath string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the log of %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, path, err)
	}
	p := &Process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	klog.V(2).InfoS("Started", "component", name, "pid", cmd.Process.Pid, "log", logPath)
	return p, nil
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.name }

// LogPath is the file its output is appended to.
func (p *Process) LogPath() string { return p.logPath }

// PID is the process id, also the id of its process group.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process group unless the process has exited.
func (p *Process) Signal(sig syscall.Signal) {
	if !p.Exited() {
		_ = syscall.Kill(-p.PID(), sig)
	}
}

// Exited reports whether the process has already ended.
func (p *Process) Exited() bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after timeout, and waits for the exit.
// Stopping an exited process is a no-op.
func (p *Process) Stop(timeout time.Duration) error {
	if p.Exited() {
		return nil
	}
	pgid := p.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("SIGTERM to %s (pgid %d): %w", p.name, pgid, err)
	}
	select {
	case <-p.Done():
		return nil
	case <-time.After(timeout):
	}
	klog.InfoS("Did not stop after SIGTERM; sending SIGKILL", "component", p.name, "timeout", timeout)
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("SIGKILL to %s (pgid %d): %w", p.name, pgid, err)
	}
	select {
	case <-p.Done():
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s (pid %d) still running after SIGKILL", p.name, pgid)
	}
}

// ExitError describes how the process ended, with the tail of its log; call only after Done is
// closed.
func (p *Process) ExitError() error {
	return fmt.Errorf("%s exited early (%w); last log lines:\n%s", p.name, p.waitErr, TailFile(p.logPath, tailLines))
}

// tailLines is how much of a component's log an error message carries.
const tailLines = 30

// TailFile returns the last n lines of path, indented, or a note saying why it cannot.
func TailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return lastLines(data, n)
}

// lastLines returns the last n lines of data, each indented for embedding in an error.
func lastLines(data []byte, n int) string {
	lines := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
