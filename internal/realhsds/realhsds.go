// Package realhsds starts real HSDS 0.9.4 nodes (../shared/real-hsds, unmodified upstream) for
// tests: a head node and SN/DN pairs on free loopback ports, each a process the test owns and stops
// by process id. It is the judge of every model of HSDS in this project (docs/hsds.md).
//
// Tests that use it fail, never skip, when the real server is not installed: CI installs it
// (.ci/run runs ../shared/real-hsds/install.sh).
package realhsds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds/locate"
)

// Dir returns the real-hsds directory: $HSDS_REAL_DIR, or ../shared/real-hsds beside the module
// root.
func Dir() (string, error) { return locate.Dir() }

var (
	checkOnce sync.Once
	checkErr  error
)

// Check reports whether real HSDS can run here: hsds-node exists and the node modules import with
// Debian's python3 (what ../shared/real-hsds/install.sh sets up).
func Check() error {
	checkOnce.Do(func() {
		dir, err := Dir()
		if err != nil {
			checkErr = err
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "hsds-node")); err != nil {
			checkErr = fmt.Errorf("real HSDS not found: %w (set HSDS_REAL_DIR)", err)
			return
		}
		cmd := exec.Command("/usr/bin/python3", "-c", "import hsds.servicenode, hsds.datanode, hsds.headnode")
		cmd.Dir = filepath.Join(dir, "upstream")
		cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "upstream")+":"+filepath.Join(dir, "stub"))
		if out, err := cmd.CombinedOutput(); err != nil {
			checkErr = fmt.Errorf("real HSDS modules do not import (run %s/install.sh as root): %w: %s", dir, err, out)
		}
	})
	return checkErr
}

// Require fails the test at once when real HSDS cannot run here. It never skips: CI installs it.
func Require(t testing.TB) string {
	t.Helper()
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	d, _ := Dir()
	return d
}

// Node is one running HSDS process.
type Node struct {
	Role string // "head", "sn" or "dn"
	Port int
	args []string
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	want bool // started and not stopped since: an exit is a failure
	log  *syncBuffer
}

// URL is the node's base URL.
func (n *Node) URL() string { return "http://127.0.0.1:" + strconv.Itoa(n.Port) }

// PID is the node's process id (the python process: hsds-node execs it); 0 when not started.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// ProcessCPU is a process's user+system CPU time so far, from /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	d, err := parseProcStat(raw)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// CPU is ProcessCPU for a test: an error fails it.
func CPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	d, err := ProcessCPU(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// LoadAverage is the machine's 1-minute load average from /proc/loadavg ("?" where there is
// none), for the real tests' logs: the machine is shared.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// parseProcStat returns utime + stime of a /proc/<pid>/stat line (proc(5): fields 14 and 15, in
// clock ticks of USER_HZ, 100 on Linux). The command name, field 2, is in parentheses and may
// hold spaces and parentheses itself, so the fields are counted from its last ')'.
func parseProcStat(raw []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, errors.New("no command name in parentheses")
	}
	f := strings.Fields(string(raw[end+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 63)
	stime, err2 := strconv.ParseUint(f[12], 10, 63)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const clkTck = 100
	const maxTicks uint64 = math.MaxInt64 / uint64(time.Second) / 2 // the sum in nanoseconds fits
	if utime > maxTicks || stime > maxTicks {
		return 0, fmt.Errorf("utime %d or stime %d ticks out of range", utime, stime)
	}
	return time.Duration(utime+stime) * time.Second / clkTck, nil
}

// Log returns what the node printed so far.
func (n *Node) Log() string { return n.log.String() }

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// died reports whether the process exited without being stopped (e.g. its port was taken).
func (n *Node) died() bool {
	n.mu.Lock()
	want := n.want
	n.mu.Unlock()
	return want && !n.Running()
}

// start runs the node's process in its own process group, killed with the test binary
// (Pdeathsig survives hsds-node's exec of python), so a test that times out or crashes leaves no
// HSDS node behind.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	cmd := exec.Command(filepath.Join(n.dir, "hsds-node"), n.args...)
	cmd.Stdout, cmd.Stderr = n.log, n.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.Role, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done, n.want = cmd, done, true
	return nil
}

// Stop ends the process by its id (SIGTERM to its group, SIGKILL after 5 s) and waits for it.
func (n *Node) Stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.want = false
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Restart stops the node and starts it again on the same port.
func (n *Node) Restart() error {
	n.Stop()
	return n.start()
}

// Pod is one SN/DN pair, as in one HSDS pod.
type Pod struct {
	SN, DN *Node
}

// Options configure a cluster.
type Options struct {
	Pods         int // SN/DN pairs; default 1
	MaxTaskCount int // default 100 (HSDS's own default)
	// NodeSleepTime is HSDS node_sleep_time in seconds (how often nodes talk to the head); 0 keeps
	// HSDS's default.
	NodeSleepTime int
}

// Cluster is a head node and its SN/DN pairs (HSDS head-node mode, as under Docker).
type Cluster struct {
	Root string
	Head *Node
	Pods []*Pod
	opts Options
	dir  string
	pick func(testing.TB) int // free ports; freePort unless a test says otherwise
}

// Start starts a cluster, waits until every SN is READY with node_count == Pods, and stops every
// process when the test ends. The ports are picked free a moment before HSDS binds them; when a
// node exits during the start (another test's server took its port in between: once on CI a fake
// HSDS answered in place of a real SN), the whole cluster is started again on new ports, at most
// three times.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	dir := Require(t)
	if opts.Pods <= 0 {
		opts.Pods = 1
	}
	if opts.MaxTaskCount <= 0 {
		opts.MaxTaskCount = 100
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		c := &Cluster{Root: t.TempDir(), opts: opts, dir: dir, pick: freePort}
		if err = c.start(t); err == nil {
			t.Cleanup(c.Stop)
			return c
		}
		logs := c.Logs()
		c.Stop()
		if !errors.Is(err, errNodeDied) {
			t.Fatalf("%v\n%s", err, logs)
		}
		t.Logf("attempt %d: %v; starting again on new ports\n%s", attempt, err, logs)
	}
	t.Fatalf("real HSDS did not start in 3 attempts: %v", err)
	return nil
}

func (c *Cluster) start(t testing.TB) error {
	c.Head = c.node("head", c.pick(t), 0)
	if err := c.Head.start(); err != nil {
		return err
	}
	for range c.opts.Pods {
		sn := c.pick(t)
		if _, err := c.AddPod(sn, c.pick(t)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx, c.opts.Pods); err != nil {
		return err
	}
	// A node that lost its port may still have been starting while another server answered for it.
	time.Sleep(500 * time.Millisecond)
	return c.checkAlive()
}

// errNodeDied marks a node that exited without being stopped.
var errNodeDied = errors.New("exited without being stopped")

// checkAlive returns an error naming the first node (head included) that died.
func (c *Cluster) checkAlive() error {
	nodes := []*Node{c.Head}
	for _, p := range c.Pods {
		nodes = append(nodes, p.SN, p.DN)
	}
	for _, n := range nodes {
		if n != nil && n.died() {
			return fmt.Errorf("%s :%d %w", n.Role, n.Port, errNodeDied)
		}
	}
	return nil
}

func (c *Cluster) node(role string, port, headPort int) *Node {
	args := []string{role, "--port", strconv.Itoa(port), "--root", c.Root,
		"--max-task-count", strconv.Itoa(c.opts.MaxTaskCount)}
	if headPort > 0 {
		args = append(args, "--head-port", strconv.Itoa(headPort))
	}
	if c.opts.NodeSleepTime > 0 {
		args = append(args, "--node-sleep-time", strconv.Itoa(c.opts.NodeSleepTime))
	}
	return &Node{Role: role, Port: port, args: args, dir: c.dir, log: &syncBuffer{}}
}

// AddPod starts one more SN/DN pair on the given ports (a scale-up in head-node mode).
func (c *Cluster) AddPod(snPort, dnPort int) (*Pod, error) {
	p := &Pod{DN: c.node("dn", dnPort, c.Head.Port), SN: c.node("sn", snPort, c.Head.Port)}
	if err := p.DN.start(); err != nil {
		return nil, err
	}
	if err := p.SN.start(); err != nil {
		p.DN.Stop()
		return nil, err
	}
	c.Pods = append(c.Pods, p)
	return p, nil
}

// Stop stops every node, SNs and DNs first, then the head.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, p := range c.Pods {
		for _, n := range []*Node{p.SN, p.DN} {
			wg.Go(n.Stop)
		}
	}
	wg.Wait()
	if c.Head != nil {
		c.Head.Stop()
	}
}

// Logs returns every node's log, for failure messages (the last 4 KiB of each).
func (c *Cluster) Logs() string {
	var b strings.Builder
	nodes := []*Node{c.Head}
	for _, p := range c.Pods {
		nodes = append(nodes, p.SN, p.DN)
	}
	for _, n := range nodes {
		if n == nil {
			continue
		}
		l := n.Log()
		if len(l) > 4096 {
			l = l[len(l)-4096:]
		}
		fmt.Fprintf(&b, "--- %s :%d\n%s\n", n.Role, n.Port, l)
	}
	return b.String()
}

// Info is what the tests read from a node's /info.
type Info struct {
	Node struct {
		ID        string  `json:"id"`
		Type      string  `json:"type"`
		State     string  `json:"state"`
		NodeCount int     `json:"node_count"`
		StartTime float64 `json:"start_time"`
	} `json:"node"`
	LogStats map[string]float64 `json:"log_stats"`
	ReqCount map[string]float64 `json:"req_count"`
}

// ReadInfo reads a node's /info.
func ReadInfo(ctx context.Context, base string) (Info, error) {
	var in Info
	body, code, err := Do(ctx, http.MethodGet, base+"/info", nil, false)
	if err != nil {
		return in, err
	}
	if code != http.StatusOK {
		return in, fmt.Errorf("GET %s/info: %d", base, code)
	}
	return in, json.Unmarshal(body, &in)
}

// WaitReady waits until every running SN and DN is READY and sees nodeCount DNs.
func (c *Cluster) WaitReady(ctx context.Context, nodeCount int) error {
	var last string
	for {
		if err := c.checkAlive(); err != nil {
			return err
		}
		last = ""
		for _, p := range c.Pods {
			for _, n := range []*Node{p.SN, p.DN} {
				if !n.Running() {
					continue
				}
				in, err := ReadInfo(ctx, n.URL())
				switch {
				case err != nil:
					last = fmt.Sprintf("%s :%d: %v", n.Role, n.Port, err)
				case in.Node.State != "READY" || in.Node.NodeCount != nodeCount:
					last = fmt.Sprintf("%s :%d: %s, node_count %d", n.Role, n.Port, in.Node.State, in.Node.NodeCount)
				}
			}
		}
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not READY with %d DNs: %s", nodeCount, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Domain is the test domain every helper reads: a domain GET is one SN->DN round trip and passes
// the SN task gate (docs/hsds.md: /info and /about never do).
const Domain = "/home/load.h5"

// CreateDomain makes /home and Domain (readable by anyone) through the SN at base, as the
// real-hsds README shows.
func CreateDomain(ctx context.Context, base string) error { return CreateDomainAt(ctx, base, Domain) }

// CreateDomainAt makes /home and the domain path under it (readable by anyone) through the SN at
// base; existing ones are kept.
func CreateDomainAt(ctx context.Context, base, path string) error {
	steps := []struct{ url, body string }{
		{base + "/?domain=/home", `{"folder":true}`},
		{base + "/?domain=" + path, ""},
		{base + "/acls/default?domain=" + path, `{"read":true}`},
	}
	for _, s := range steps {
		var body io.Reader
		if s.body != "" {
			body = strings.NewReader(s.body)
		}
		_, code, err := Do(ctx, http.MethodPut, s.url, body, true)
		if err != nil {
			return err
		}
		if code != http.StatusCreated && code != http.StatusOK && code != http.StatusConflict {
			return fmt.Errorf("PUT %s: HTTP %d", s.url, code)
		}
	}
	return nil
}

// Do sends one request on a fresh connection (optionally as admin) and returns body and status.
func Do(ctx context.Context, method, url string, body io.Reader, admin bool) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, 0, err
	}
	if admin {
		req.SetBasicAuth("admin", "admin")
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := loopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// loopbackPort returns a loopback port that was free a moment ago.
func loopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int { t.Helper(); return freePort(t) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 8<<20 { // keep the tail bounded
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
