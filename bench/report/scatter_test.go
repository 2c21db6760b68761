package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func TestPareto(t *testing.T) {
	pts := plotter.XYs{{X: 300, Y: 0.01}, {X: 100, Y: 0.1}, {X: 200, Y: 0.2}, {X: 900, Y: 0.001}, {X: 400, Y: 0.01}}
	want := plotter.XYs{{X: 100, Y: 0.1}, {X: 300, Y: 0.01}, {X: 900, Y: 0.001}}
	if diff := cmp.Diff(want, Pareto(pts)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteScatterAndFrontierPlot(t *testing.T) {
	dir := t.TempDir()
	s := Scatter{Width: 10 * vg.Centimeter, Height: 8 * vg.Centimeter, XLabel: "x", YLabel: "y", LogX: true, LogY: true, YFloor: 1e-4,
		Series: []Points{{Name: "a", Radius: 2, XY: plotter.XYs{{X: 1, Y: 0}, {X: 2, Y: 0.5}}}, {Name: "b", Line: true, Dashed: true, XY: plotter.XYs{{X: 1, Y: 1}, {X: 3, Y: 2}}}}}
	if err := WriteScatter(filepath.Join(dir, "s.png"), s); err != nil {
		t.Fatal(err)
	}
	r := Report{Seeds: []uint64{1, 2},
		Rows:     []Row{{Trace: "t", Seed: 1, Policy: "hsds", FailedFraction: 0.001, PodSeconds: 500}, {Trace: "t", Seed: 2, Policy: "hsds", FailedFraction: 0, PodSeconds: 600}},
		Frontier: []FrontierEntry{{Trace: "t", Seed: 1, Label: "fixed 2", FailedFraction: 0.01, PodSeconds: 300}, {Trace: "t", Seed: 2, Label: "fixed 3", FailedFraction: 0.002, PodSeconds: 450}}}
	if err := WriteFrontierPlot(filepath.Join(dir, "f.png"), "t", r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"s.png", "f.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
			t.Errorf("%s: not a PNG: %d bytes, %v", name, len(b), err)
		}
	}
	if err := WriteScatter(filepath.Join(dir, "missing", "s.png"), s); err == nil {
		t.Error("unwritable path: no error")
	}
}

// TestWriteFrontierPlotOnePoint: a --skip-frontier run of one policy and one seed has one point
// per trace (or none on an axis): the log axes must still draw (gonum's log ticks panicked on a
// range of one value, and the bench died after its replays).
func TestWriteFrontierPlotOnePoint(t *testing.T) {
	dir := t.TempDir()
	for name, rows := range map[string][]Row{
		"one point": {{Trace: "t", Seed: 1, Policy: "hsds", FailedFraction: 0.001, PodSeconds: 500}},
		"no failed": {{Trace: "t", Seed: 1, Policy: "hsds", FailedFraction: 0, PodSeconds: 500}},
		"none":      nil,
	} {
		r := Report{Seeds: []uint64{1}, Rows: rows}
		if err := WriteFrontierPlot(filepath.Join(dir, "f.png"), "t", r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, tt := range []struct{ lo, hi, wantLo, wantHi float64 }{{0, 0, 1, 10}, {5, 5, 2.5, 10}, {0, 8, 4, 16}, {2, 8, 2, 8}} {
		if lo, hi := logRange(tt.lo, tt.hi); lo != tt.wantLo || hi != tt.wantHi {
			t.Errorf("logRange(%g, %g) = %g, %g; want %g, %g", tt.lo, tt.hi, lo, hi, tt.wantLo, tt.wantHi)
		}
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(7000, 60000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if diff := cmp.Diff([]string{"10000", "20000", "50000"}, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if got := (logTicks{}).Ticks(0, 10); got != nil {
		t.Errorf("lo 0: %v", got)
	}
}
