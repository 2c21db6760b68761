package fakekubelet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// podMounts is the shell that runs an HSDS node of a real pod in a mount namespace of its own
// (unshare --mount, private propagation), so that nothing of the pod shows on the host: a tmpfs
// over /run (the host's /run/netns carried over, for `ip netns exec`), the pod's service account
// directory at /var/run/secrets/kubernetes.io/serviceaccount (where HSDS reads token, namespace
// and ca.crt), and the pod's hosts file (kubernetes.default.svc -> the bridge) over /etc/hosts.
// $1 is the pod directory; the rest is the command.
const podMounts = `set -e
mount --rbind /run/netns "$1/run-netns"
mount -t tmpfs -o mode=0755,size=1m hsds-pod /run
mkdir -p /run/netns /run/secrets/kubernetes.io/serviceaccount
mount --move "$1/run-netns" /run/netns
mount --bind "$1/serviceaccount" /run/secrets/kubernetes.io/serviceaccount
mount --bind "$1/hosts" /etc/hosts
shift
exec "$@"`

// inPodMounts wraps argv to run in the pod's own mounts (podMounts) with podDir.
func inPodMounts(podDir string, argv []string) []string {
	return append([]string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", podMounts, "sh", podDir}, argv...)
}

// proc is one process of a real pod (sn, dn or agent) in its own process group, its output in a
// log file. The process is also killed if the thread that started it dies (Pdeathsig).
type proc struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{} // closed once the process has exited and been reaped
	err       error         // valid after done
}

func startProc(name string, argv, env []string, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log of %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, argv[0], err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id; its process group has the same id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group unless it has exited.
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = syscall.Kill(-p.pid(), sig)
	}
}

// exitError says how the process ended, with the tail of its log; call after done.
func (p *proc) exitError() error {
	return fmt.Errorf("%s exited (%w); last log lines:\n%s", p.name, p.err, tail(p.log, 20))
}

// stopProcs sends SIGTERM to every group, SIGKILL to those still running after grace, and waits
// (at most 10 s more) for all of them.
func stopProcs(procs []*proc, grace time.Duration) error {
	for _, p := range procs {
		p.signal(syscall.SIGTERM)
	}
	deadline := time.After(grace)
	killed := false
	for _, p := range procs {
		select {
		case <-p.done:
			continue
		case <-deadline:
		}
		if !killed {
			for _, q := range procs {
				q.signal(syscall.SIGKILL)
			}
			killed = true
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s (pid %d) still running after SIGKILL", p.name, p.pid())
		}
	}
	return nil
}

// tail returns the last n lines of path, indented, or why it cannot.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("    (cannot read %s: %v)", path, err)
	}
	lines := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// procSet is the processes of one pod.
type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

func (s *procSet) add(p *proc) {
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
}

func (s *procSet) all() []*proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*proc(nil), s.procs...)
}

// firstExit returns the exit error of the first process that ended, or nil.
func (s *procSet) firstExit() error {
	for _, p := range s.all() {
		if p.exited() {
			return p.exitError()
		}
	}
	return nil
}

// errNotServing is returned while a pod's processes do not answer yet.
var errNotServing = errors.New("not serving yet")
