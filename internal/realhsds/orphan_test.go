package realhsds

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// orphanEnv makes the test binary, run again by TestNodesDieWithTheTestBinary, start a cluster,
// print its node pids and exit without stopping it, as a test binary that times out does.
const orphanEnv = "REALHSDS_ORPHAN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(orphanEnv) == "1" {
		os.Exit(orphanChild())
	}
	os.Exit(m.Run())
}

// orphanChild starts a one-pod cluster outside any test, prints the nodes' pids and returns
// with them running.
func orphanChild() int {
	dir, err := Dir()
	if err != nil {
		return 2
	}
	root, err := os.MkdirTemp("", "realhsds-orphan")
	if err != nil {
		return 2
	}
	c := &Cluster{Root: root, opts: Options{Pods: 1, MaxTaskCount: 100}, dir: dir, pick: func(testing.TB) int {
		port, _ := loopbackPort() // 0 on error: the node then fails to start, and so does the child
		return port
	}}
	if err := c.start(nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n" + c.Logs())
		return 3
	}
	os.Stdout.WriteString(root + "\n")
	for _, n := range []*Node{c.Head, c.Pods[0].SN, c.Pods[0].DN} {
		os.Stdout.WriteString(strconv.Itoa(n.PID()) + "\n")
	}
	return 0 // no Stop: the nodes must die with this process (Pdeathsig)
}

// TestNodesDieWithTheTestBinary: a test binary that ends without stopping its cluster (a
// timeout's panic, a crash) takes its HSDS nodes with it. Once a timed-out ./bench run left a
// head node, an SN and a DN running, parented to init, until killed by hand.
func TestNodesDieWithTheTestBinary(t *testing.T) {
	Require(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(out))
	if sc.Scan() {
		root := sc.Text()
		t.Cleanup(func() { _ = os.RemoveAll(root) })
	}
	for sc.Scan() {
		pid, err := strconv.Atoi(sc.Text())
		if err != nil || pid <= 0 {
			t.Fatalf("child printed %q", sc.Text())
		}
		pids = append(pids, pid)
	}
	if len(pids) != 3 {
		t.Fatalf("child printed %d pids, want 3 (head, SN, DN): %q", len(pids), out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				for _, p := range pids { // leave nothing behind either way
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
				t.Fatalf("node pid %d still runs 10 s after its test binary exited", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs and is not a zombie (a killed node whose new parent, init, has
// not reaped it yet is dead).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3, after the parenthesised command name: the state.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
