package testwait

import (
	"testing"
	"time"
)

// Timeout is how long For waits: long enough for a loaded 2-core CI machine, short enough that a
// condition that never holds fails the test quickly.
const Timeout = 5 * time.Second

// For polls cond (every millisecond at first, backing off to every 10 ms) until it holds, and
// fails the test with "timed out waiting for <what>" when Timeout passes first.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}
