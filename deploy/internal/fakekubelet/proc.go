package fakekubelet

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
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

// proc is one process of a real pod (sn, dn or agent): the control plane's process type (its own
// process group, its output in a log file, killed with the thread that started it).
type proc = controlplane.Process

// startProc starts argv with env added, its output in logPath.
func startProc(name string, argv, env []string, logPath string) (*proc, error) {
	return controlplane.StartProcess(name, argv[0], argv[1:], env, logPath)
}

// stopProcs sends SIGTERM to every group, SIGKILL to those still running after grace, and waits
// (at most 10 s more) for all of them.
func stopProcs(procs []*proc, grace time.Duration) error {
	for _, p := range procs {
		p.Signal(syscall.SIGTERM)
	}
	deadline := time.After(grace)
	killed := false
	for _, p := range procs {
		select {
		case <-p.Done():
			continue
		case <-deadline:
		}
		if !killed {
			for _, q := range procs {
				q.Signal(syscall.SIGKILL)
			}
			killed = true
		}
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s (pid %d) still running after SIGKILL", p.Name(), p.PID())
		}
	}
	return nil
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
		if p.Exited() {
			return p.ExitError()
		}
	}
	return nil
}

// errNotServing is returned while a pod's processes do not answer yet.
var errNotServing = errors.New("not serving yet")
