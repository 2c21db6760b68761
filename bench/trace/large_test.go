package trace

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// paddedRows is a generated trace of n rows "<pad>i,1" of lineBytes bytes each (t_seconds padded
// with leading spaces, which Parse accepts), produced on the fly: gigabytes of input, no memory.
// When badAt > 0, row badAt has a negative rate.
type paddedRows struct {
	n, i, badAt int
	lineBytes   int
	pending     []byte
	header      bool
}

func (r *paddedRows) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(r.pending) == 0 {
			if !r.next() {
				if total == 0 {
					return 0, io.EOF
				}
				return total, nil
			}
		}
		k := copy(p, r.pending)
		r.pending, p, total = r.pending[k:], p[k:], total+k
	}
	return total, nil
}

// next fills pending with the next line; false at the end.
func (r *paddedRows) next() bool {
	buf := r.pending[:0]
	if !r.header {
		r.header = true
		r.pending = append(buf, Header+"\n"...)
		return true
	}
	if r.i >= r.n {
		return false
	}
	row := strconv.AppendInt(nil, int64(r.i), 10)
	rate := ",1\n"
	if r.i+1 == r.badAt {
		rate = ",-1\n"
	}
	for range r.lineBytes - len(row) - len(rate) {
		buf = append(buf, ' ')
	}
	r.pending = append(append(buf, row...), rate...)
	r.i++
	return true
}

// peakHeap samples the live heap every 10 ms while f runs and returns the highest sample.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// The "10 GB of it": Parse streams, so a huge input costs time, never memory. 2 GiB of
// generated input (8 Mi rows of 256 bytes; the bound does not depend on the size: the parser
// keeps at most MaxBins bins and one line) parses with the live heap under 64 MiB, and a bad
// value at its very end is reported with its line number.
func TestParseHugeInputBoundedHeap(t *testing.T) {
	const rows, lineBytes, heapLimit = 8 << 20, 256, 64 << 20
	var got Series
	var err error
	peak := peakHeap(func() {
		got, err = Parse(&paddedRows{n: rows, lineBytes: lineBytes}, "huge", DefaultParseOptions())
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got.Rates) > DefaultParseOptions().MaxBins || got.Duration() != rows {
		t.Errorf("%d bins of %g s: want <= %d bins spanning %d s", len(got.Rates), got.Step, DefaultParseOptions().MaxBins, rows)
	}
	if peak > heapLimit {
		t.Errorf("peak live heap %d MiB parsing %d MiB: want <= %d MiB", peak>>20, rows*lineBytes>>20, heapLimit>>20)
	}
	t.Logf("parsed %d MiB, peak live heap %d MiB", rows*lineBytes>>20, peak>>20)

	_, err = Parse(&paddedRows{n: 1 << 20, lineBytes: lineBytes, badAt: 1 << 20}, "bad-tail", DefaultParseOptions())
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrNegative) || pe.Line != 1<<20+1 {
		t.Errorf("negative rate on the last of 2^20 rows: %v, want ErrNegative at line %d", err, 1<<20+1)
	}
}
