package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress draws a one-line bar ("\r[#####     ]  50% 7.5/15 replays") on w as simulated
// ticks complete. It redraws only when the percentage changes.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	total int64
	done  int64
	shown int
	runs  int
}

func newProgress(w io.Writer, jobs []job) *progress {
	p := &progress{w: w, shown: -1, runs: len(jobs)}
	for _, j := range jobs {
		p.total += j.ticks
	}
	p.add(0)
	return p
}

// add records n more simulated ticks.
func (p *progress) add(n int64) {
	if p.w == nil || p.total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	pct := int(100 * p.done / p.total)
	if pct == p.shown {
		return
	}
	p.shown = pct
	const width = 30
	bar := strings.Repeat("#", width*pct/100) + strings.Repeat(" ", width-width*pct/100)
	fmt.Fprintf(p.w, "\rbench [%s] %3d%% %.1f/%d replays", bar, pct, float64(p.runs)*float64(p.done)/float64(p.total), p.runs)
}

// finish ends the line.
func (p *progress) finish() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
