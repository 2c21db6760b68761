package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Header is the first line of every trace file.
const Header = "t_seconds,requests_per_second"

// Defaults of ParseOptions.
const (
	DefaultMaxBins      = 1 << 20 // 8 MiB of float64
	DefaultMaxLineBytes = 256
)

// Series is a request-rate trace: Rates[i] is the mean arrival rate (requests/s) over
// [Start+i*Step, Start+(i+1)*Step), in seconds.
type Series struct {
	Name  string
	Start float64
	Step  float64
	Rates []float64
}

// Duration is the span the series covers, in seconds.
func (s Series) Duration() float64 { return float64(len(s.Rates)) * s.Step }

// At is the rate at offset t seconds from Start (0 outside the series).
func (s Series) At(t float64) float64 {
	if t < 0 || s.Step <= 0 {
		return 0
	}
	i := int(t / s.Step)
	if i >= len(s.Rates) {
		return 0
	}
	return s.Rates[i]
}

// Peak is the highest rate of the series (0 when empty).
func (s Series) Peak() float64 {
	p := 0.0
	for _, r := range s.Rates {
		p = math.Max(p, r)
	}
	return p
}

// Mean is the mean rate of the series (0 when empty).
func (s Series) Mean() float64 {
	if len(s.Rates) == 0 {
		return 0
	}
	sum := 0.0
	for _, r := range s.Rates {
		sum += r
	}
	return sum / float64(len(s.Rates))
}

// ParseOptions bounds what Parse holds in memory.
type ParseOptions struct {
	// MaxBins is the most bins kept; beyond it, pairs of bins are averaged (Step doubles).
	MaxBins int
	// MaxLineBytes is the longest line accepted.
	MaxLineBytes int
}

// DefaultParseOptions returns the defaults.
func DefaultParseOptions() ParseOptions {
	return ParseOptions{MaxBins: DefaultMaxBins, MaxLineBytes: DefaultMaxLineBytes}
}

// Validate returns every problem with the options.
func (o ParseOptions) Validate() error {
	var errs []error
	if o.MaxBins < 2 {
		errs = append(errs, fmt.Errorf("MaxBins %d: must be >= 2", o.MaxBins))
	}
	if o.MaxLineBytes < len(Header) {
		errs = append(errs, fmt.Errorf("MaxLineBytes %d: must be >= %d", o.MaxLineBytes, len(Header)))
	}
	return errors.Join(errs...)
}

// ParseError is a problem at one line of the input (1-based; the header is line 1).
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// Errors a ParseError wraps, for errors.Is.
var (
	ErrHeader   = errors.New("wrong header")
	ErrFields   = errors.New("want 2 comma-separated fields")
	ErrNumber   = errors.New("not a number")
	ErrNegative = errors.New("negative value")
	ErrSpacing  = errors.New("rows not evenly spaced")
	ErrTooLong  = errors.New("line too long")
	ErrTooShort = errors.New("need at least 2 rows")
	ErrBlank    = errors.New("blank line before data")
)

// Parse reads a whole trace from r. name goes into Series.Name.
func Parse(r io.Reader, name string, opts ParseOptions) (Series, error) {
	if err := opts.Validate(); err != nil {
		return Series{}, fmt.Errorf("parse options: %w", err)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, opts.MaxLineBytes), opts.MaxLineBytes)
	p := parser{acc: newAccumulator(opts.MaxBins)}
	line := 0
	for sc.Scan() {
		line++
		if err := p.line(line, strings.TrimRight(sc.Text(), "\r")); err != nil {
			return Series{}, &ParseError{Line: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Series{}, &ParseError{Line: line + 1, Err: fmt.Errorf("%w (limit %d bytes)", ErrTooLong, opts.MaxLineBytes)}
		}
		return Series{}, fmt.Errorf("read trace %s: %w", name, err)
	}
	if p.rows < 2 {
		return Series{}, &ParseError{Line: line, Err: fmt.Errorf("%w, got %d", ErrTooShort, p.rows)}
	}
	rates, factor := p.acc.finish()
	return Series{Name: name, Start: p.t0, Step: p.step * float64(factor), Rates: rates}, nil
}

type parser struct {
	rows      int
	blankLine int // first blank line seen after the header, 0 if none
	t0, prev  float64
	step      float64
	acc       accumulator
}

func (p *parser) line(n int, text string) error {
	if n == 1 {
		if strings.TrimPrefix(text, "\uFEFF") != Header {
			return fmt.Errorf("%w: got %.40q, want %q", ErrHeader, text, Header)
		}
		return nil
	}
	if strings.TrimSpace(text) == "" {
		if p.blankLine == 0 {
			p.blankLine = n
		}
		return nil
	}
	if p.blankLine != 0 {
		return fmt.Errorf("%w (blank line %d)", ErrBlank, p.blankLine)
	}
	t, v, err := parseRow(text)
	if err != nil {
		return err
	}
	if err := p.checkTime(t); err != nil {
		return err
	}
	p.rows++
	p.prev = t
	p.acc.add(v)
	return nil
}

func (p *parser) checkTime(t float64) error {
	switch p.rows {
	case 0:
		p.t0 = t
		return nil
	case 1:
		if t <= p.prev {
			return fmt.Errorf("%w: t_seconds %g does not follow %g", ErrSpacing, t, p.prev)
		}
		p.step = t - p.prev
		return nil
	}
	want := p.t0 + float64(p.rows)*p.step
	if math.Abs(t-want) > 1e-6*math.Max(1, math.Abs(want)) {
		return fmt.Errorf("%w: t_seconds %g follows %g, want %g (bins every %g s)", ErrSpacing, t, p.prev, want, p.step)
	}
	return nil
}

// parseRow parses "t,v" with both values finite and non-negative.
func parseRow(text string) (t, v float64, err error) {
	ts, vs, ok := strings.Cut(text, ",")
	if !ok || strings.Contains(vs, ",") {
		return 0, 0, fmt.Errorf("%w: %.40q", ErrFields, text)
	}
	if t, err = parseValue("t_seconds", ts); err != nil {
		return 0, 0, err
	}
	if v, err = parseValue("requests_per_second", vs); err != nil {
		return 0, 0, err
	}
	return t, v, nil
}

func parseValue(field, s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %s %.40q", ErrNumber, field, s)
	}
	if f < 0 {
		return 0, fmt.Errorf("%w: %s %g", ErrNegative, field, f)
	}
	return f, nil
}

// accumulator keeps at most max bins, averaging groups of `factor` input values per bin and
// doubling factor (merging pairs of kept bins) when full.
type accumulator struct {
	max    int
	factor int
	bins   []float64
	sum    float64
	n      int
}

func newAccumulator(max int) accumulator { return accumulator{max: max, factor: 1} }

func (a *accumulator) add(v float64) {
	a.sum += v
	a.n++
	if a.n < a.factor {
		return
	}
	if len(a.bins) == a.max {
		a.halve()
		if a.n < a.factor {
			return
		}
	}
	a.bins = append(a.bins, a.sum/float64(a.n))
	a.sum, a.n = 0, 0
}

func (a *accumulator) halve() {
	half := a.bins[:0]
	for i := 0; i+1 < len(a.bins); i += 2 {
		half = append(half, (a.bins[i]+a.bins[i+1])/2)
	}
	if len(a.bins)%2 == 1 { // an odd last bin becomes the start of the pending group
		a.sum += a.bins[len(a.bins)-1] * float64(a.factor)
		a.n += a.factor
	}
	a.bins = half
	a.factor *= 2
}

// finish returns the bins (a trailing partial group is averaged over what it holds) and the
// number of input rows per bin.
func (a *accumulator) finish() ([]float64, int) {
	if a.n > 0 && len(a.bins) == a.max {
		a.halve()
	}
	if a.n > 0 {
		a.bins = append(a.bins, a.sum/float64(a.n))
	}
	return a.bins, a.factor
}
