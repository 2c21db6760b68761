package fakeagent

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// manyEnv, set to "offset,count", makes a test binary serve count fake agents (ServeManyIfChild)
// instead of running its tests.
const manyEnv = "HSDS_FAKEAGENT_MANY"

// PerChild is the most agents one child process serves: each takes a listener and, once
// scraped, a keep-alive connection, and the sandbox allows 20,000 open files per process.
const PerChild = 4000

// Busy is the state every agent of StartMany serves: a pod under load, the realistic 37-line
// exposition of the adapter's benchmarks.
func Busy() State {
	st := Default()
	st.OK, st.InFlight = 123456, 37
	st.Other = map[string]float64{"201": 4567, "204": 89, "400": 12, "404": 345}
	st.Rejected = map[string]float64{schema.CauseOverload: 789, schema.CauseNotReady: 12, schema.CauseUpstream: 3}
	return st
}

// Loopback returns the i-th agent address of StartMany: 127.0.1.1 .. 127.0.x.250.
func Loopback(i int) string { return fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250) }

// ServeManyIfChild serves the agents a parent's StartMany asked for, and returns true when it
// did (the process should then exit). Call it first in TestMain. The child prints one address
// per line and serves until its stdin closes.
func ServeManyIfChild() bool {
	spec := os.Getenv(manyEnv)
	if spec == "" {
		return false
	}
	offStr, nStr, _ := strings.Cut(spec, ",")
	off, err1 := strconv.Atoi(offStr)
	n, err2 := strconv.Atoi(nStr)
	if err1 != nil || err2 != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: want offset,count\n", manyEnv, spec)
		os.Exit(2)
	}
	agent := New(Busy())
	w := bufio.NewWriter(os.Stdout)
	for i := off; i < off+n; i++ {
		l, err := net.Listen("tcp", Loopback(i)+":0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "listen: %v\n", err)
			os.Exit(3)
		}
		go func() { _ = http.Serve(l, agent) }()
		fmt.Fprintln(w, l.Addr().String())
	}
	_ = w.Flush()
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent closed the pipe: exit
	return true
}

// StartMany runs n fake agents (state Busy) in child processes of at most PerChild agents each
// (the test binary run again; its TestMain must call ServeManyIfChild) and returns their
// addresses, agent i on Loopback(i). The children exit when the test ends.
func StartMany(tb testing.TB, n int) []string {
	tb.Helper()
	addrs := make([]string, 0, n)
	for off := 0; off < n; off += PerChild {
		count := min(PerChild, n-off)
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", manyEnv, off, count))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			tb.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
		sc := bufio.NewScanner(stdout)
		got := 0
		for got < count && sc.Scan() {
			addrs = append(addrs, sc.Text())
			got++
		}
		if got != count {
			tb.Fatalf("child started %d of %d agents: %v", got, count, sc.Err())
		}
	}
	return addrs
}
