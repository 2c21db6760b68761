package report

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The time axis is labelled at round whole minutes, whatever the span.
func TestMinuteTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 3, []string{"0", "1", "2", "3"}},
		{-0.5, 3, []string{"0", "1", "2", "3"}},
		{-0.7, 0.5, []string{"0"}},
		{-0.1, 0.5, []string{"0"}},
		{0, 58, []string{"0", "10", "20", "30", "40", "50"}},
		{0, 1440, []string{"0", "180", "360", "540", "720", "900", "1080", "1260", "1440"}},
	} {
		var labels []string
		for _, tk := range (MinuteTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tc.want) {
			t.Errorf("Ticks(%g, %g) labels = %v, want %v", tc.lo, tc.hi, labels, tc.want)
		}
	}
	if got := (MinuteTicks{}).Ticks(1, 1); got != nil {
		t.Errorf("empty range: %v", got)
	}
}

func TestWritePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	xy := plotter.XYs{{X: 0, Y: 1}, {X: 60, Y: 2}, {X: 120, Y: 0}}
	f := Figure{Width: 10 * vg.Centimeter, Height: 8 * vg.Centimeter, XLabel: "minutes",
		Panels: []Panel{{YLabel: "a", Lines: []Line{{Name: "a", Width: 1, XY: xy}}}, {YLabel: "b", Lines: []Line{{Name: "b", Width: 1, Dashed: true, XY: xy}}}}}
	if err := WritePNG(path, f); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Errorf("not a PNG: %d bytes, %v", len(b), err)
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "missing", "p.png"), f); err == nil {
		t.Error("unwritable path: no error")
	}
}
