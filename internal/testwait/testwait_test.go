package testwait

import (
	"sync/atomic"
	"testing"
)

func TestForPollsUntilTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	For(t, "the third call", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Errorf("cond called %d times, want 3", n.Load())
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestForFailsAfterTheTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the full timeout")
	}
	r := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				panic(p)
			}
		}()
		For(r, "nothing", func() bool { return false })
	}()
	if r.msg != "timed out waiting for %s" {
		t.Errorf("Fatalf format = %q", r.msg)
	}
}
