package trace

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Series
	}{
		{"per-minute", Header + "\n0,1.5\n60,2\n120,0\n", Series{Name: "x", Step: 60, Rates: []float64{1.5, 2, 0}}},
		{"CRLF and BOM", "\uFEFF" + Header + "\r\n0,1\r\n1,2\r\n", Series{Name: "x", Step: 1, Rates: []float64{1, 2}}},
		{"no trailing newline", Header + "\n10,1\n11,3", Series{Name: "x", Start: 10, Step: 1, Rates: []float64{1, 3}}},
		{"trailing blank lines", Header + "\n0,1\n1,2\n\n\n", Series{Name: "x", Step: 1, Rates: []float64{1, 2}}},
		{"fractional step", Header + "\n0,1\n0.5,2\n1.0,3\n", Series{Name: "x", Step: 0.5, Rates: []float64{1, 2, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in), "x", DefaultParseOptions())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	long := Header + "\n0,1\n1," + strings.Repeat("1", 300) + "\n"
	tests := []struct {
		name    string
		in      string
		line    int
		wantErr error
	}{
		{"empty", "", 0, ErrTooShort},
		{"wrong header", "t,rps\n0,1\n", 1, ErrHeader},
		{"header only", Header + "\n", 1, ErrTooShort},
		{"one row", Header + "\n0,1\n", 2, ErrTooShort},
		{"gap", Header + "\n0,1\n60,1\n180,1\n", 4, ErrSpacing},
		{"uneven", Header + "\n0,1\n60,1\n121,1\n", 4, ErrSpacing},
		{"not increasing", Header + "\n60,1\n0,1\n", 3, ErrSpacing},
		{"repeated time", Header + "\n0,1\n0,1\n", 3, ErrSpacing},
		{"negative rate", Header + "\n0,1\n1,-2\n", 3, ErrNegative},
		{"negative time", Header + "\n-1,1\n0,1\n", 2, ErrNegative},
		{"NaN", Header + "\n0,1\n1,NaN\n", 3, ErrNumber},
		{"Inf", Header + "\n0,1\n1,+Inf\n", 3, ErrNumber},
		{"non-numeric", Header + "\n0,1\n1,abc\n", 3, ErrNumber},
		{"empty value", Header + "\n0,1\n1,\n", 3, ErrNumber},
		{"one field", Header + "\n0,1\n1\n", 3, ErrFields},
		{"three fields", Header + "\n0,1\n1,2,3\n", 3, ErrFields},
		{"too long line", long, 3, ErrTooLong},
		{"blank line in data", Header + "\n0,1\n\n1,2\n", 4, ErrBlank},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), "x", DefaultParseOptions())
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Parse error = %v, want %v", err, tc.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tc.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tc.line, err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", tc.line)) {
				t.Errorf("error %q does not start with its line number", err)
			}
		})
	}
}

func TestParseOptionsValidate(t *testing.T) {
	err := ParseOptions{MaxBins: 1, MaxLineBytes: 3}.Validate()
	if err == nil || !strings.Contains(err.Error(), "MaxBins") || !strings.Contains(err.Error(), "MaxLineBytes") {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

// TestParseDownsamples checks that Parse keeps at most MaxBins bins, averaging neighbours, and
// that the result preserves the mean and the time span.
func TestParseDownsamples(t *testing.T) {
	tests := []struct {
		name    string
		rows    int
		maxBins int
		want    Series
	}{
		{"fits", 4, 4, Series{Name: "g", Step: 1, Rates: []float64{0, 1, 2, 3}}},
		{"halved once", 8, 4, Series{Name: "g", Step: 2, Rates: []float64{0.5, 2.5, 4.5, 6.5}}},
		{"halved twice", 9, 4, Series{Name: "g", Step: 4, Rates: []float64{1.5, 5.5, 8}}},
		{"odd max", 7, 3, Series{Name: "g", Step: 4, Rates: []float64{1.5, 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(genReader(tc.rows, 1), "g", ParseOptions{MaxBins: tc.maxBins, MaxLineBytes: 64})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseLargeBoundedMemory streams 10^6 rows (~10 MB of text, generated on the fly) through
// Parse with a small bin budget: memory stays bounded by MaxBins and the mean is preserved.
func TestParseLargeBoundedMemory(t *testing.T) {
	const rows = 1_000_000
	got, err := Parse(genReader(rows, 1), "big", ParseOptions{MaxBins: 1000, MaxLineBytes: 64})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got.Rates) > 1000 {
		t.Errorf("kept %d bins, want <= 1000", len(got.Rates))
	}
	if d := got.Step * float64(len(got.Rates)); d < rows*0.99 || d > rows*1.01 {
		t.Errorf("span %g s, want about %d", d, rows)
	}
	// Rates are the row numbers 0..rows-1: the mean is (rows-1)/2.
	if m := got.Mean(); m < (rows-1)/2*0.99 || m > (rows-1)/2*1.01 {
		t.Errorf("mean %g, want about %d", m, (rows-1)/2)
	}
}

// genReader streams a valid trace of n rows, rate i at row i, without holding it in memory.
func genReader(n int, step float64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := &strings.Builder{}
		fmt.Fprintln(w, Header)
		for i := range n {
			fmt.Fprintf(w, "%g,%d\n", float64(i)*step, i)
			if w.Len() > 1<<16 {
				if _, err := io.WriteString(pw, w.String()); err != nil {
					return
				}
				w.Reset()
			}
		}
		_, _ = io.WriteString(pw, w.String())
		pw.Close()
	}()
	return pr
}

func TestBusiest(t *testing.T) {
	s := Series{Name: "s", Step: 10, Rates: []float64{1, 5, 1, 1, 7, 7, 1}}
	tests := []struct {
		span float64
		want Series
	}{
		{20, Series{Name: "s", Start: 40, Step: 10, Rates: []float64{7, 7}}},
		{35, Series{Name: "s", Start: 30, Step: 10, Rates: []float64{1, 7, 7}}},
		{1000, s},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, Busiest(s, tc.span)); diff != "" {
			t.Errorf("Busiest(%g) (-want +got):\n%s", tc.span, diff)
		}
	}
}

func TestPeakMean(t *testing.T) {
	s := Series{Step: 1, Rates: []float64{0, 10, 0, 2, 2, 2}}
	for _, tc := range []struct{ span, want float64 }{{1, 10}, {2, 5}, {3, 4}, {100, 16.0 / 6}} {
		if got := s.PeakMean(tc.span); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("PeakMean(%g) = %g, want %g", tc.span, got, tc.want)
		}
	}
}

func TestCompressAndScale(t *testing.T) {
	s := Series{Name: "s", Start: 60, Step: 60, Rates: []float64{1, 2}}
	want := Series{Name: "s", Start: 15, Step: 15, Rates: []float64{3, 6}}
	if diff := cmp.Diff(want, Scale(Compress(s, 4), 3)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Rates[0] != 1 {
		t.Errorf("Scale modified its input")
	}
}

func TestGenerate(t *testing.T) {
	for _, shape := range Shapes {
		t.Run(string(shape), func(t *testing.T) {
			s, err := Generate(Gen{Shape: shape, Base: 10, Peak: 100, Duration: 3600, Step: 10})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if len(s.Rates) != 360 {
				t.Errorf("%d bins, want 360", len(s.Rates))
			}
			want := 10.0
			if shape == ShapeColdStart {
				want = 0 // idle until the burst
			}
			if s.Rates[0] != want {
				t.Errorf("first rate %g, want %g", s.Rates[0], want)
			}
			if p := s.Peak(); p < 99 || p > 100 {
				t.Errorf("peak %g, want about 100", p)
			}
		})
	}
	if _, err := Generate(Gen{Shape: "zigzag", Base: 5, Peak: 1, Step: 0}); err == nil ||
		!strings.Contains(err.Error(), "shape") || !strings.Contains(err.Error(), "base") || !strings.Contains(err.Error(), "step") {
		t.Errorf("Generate(bad) = %v, want every problem", err)
	}
}

// The shapes added for issue 12, at hand-picked instants (Duration 3600, Step 10, 10..100).
func TestGenerateNewShapes(t *testing.T) {
	for _, tc := range []struct {
		shape Shape
		at    map[int]float64 // bin -> rate
	}{
		{ShapeColdStart, map[int]float64{0: 0, 89: 0, 90: 100, 179: 100, 180: 10}},
		{ShapeSawtooth, map[int]float64{0: 10, 27: 55, 54: 100, 59: 100, 60: 10}},
		{ShapeFanout, map[int]float64{0: 10, 26: 10, 27: 100, 29: 100, 30: 10, 57: 100}},
	} {
		s, err := Generate(Gen{Shape: tc.shape, Base: 10, Peak: 100, Duration: 3600, Step: 10})
		if err != nil {
			t.Fatal(err)
		}
		for bin, want := range tc.at {
			if got := s.Rates[bin]; math.Abs(got-want) > 1e-9 {
				t.Errorf("%s bin %d: %g, want %g", tc.shape, bin, got, want)
			}
		}
	}
}

func TestShippedTracesParse(t *testing.T) {
	tests := []struct {
		file string
		bins int
		step float64
	}{
		{"../traces/nasa_http_1995_jul01-27_per_minute.csv", 38880, 60},
		{"../traces/worldcup98_1998-06-22_to_07-13_per_minute.csv", 30240, 60},
		{"../traces/azure_llm2023_conv_per_second.csv", 3503, 1},
	}
	for _, tc := range tests {
		s, err := ReadFile(tc.file, DefaultParseOptions())
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		if len(s.Rates) != tc.bins || s.Step != tc.step {
			t.Errorf("%s: %d bins of %g s, want %d of %g (SOURCES.md)", tc.file, len(s.Rates), s.Step, tc.bins, tc.step)
		}
	}
}
