package report

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteFrontierPlot draws one trace's failures (failed %) against pod-seconds, both on log scales: every
// frontier schedule of every seed as a grey dot, each seed's Pareto front (no schedule both
// cheaper and failing less) as a grey line, and every policy's replays in its colour, one glyph
// per seed. The legend sits bottom left, the corner no schedule reaches (cheap and failing little).
func WriteFrontierPlot(path, trace string, r Report) error {
	grey := color.Gray{Y: 150}
	var series []Points
	for i, seed := range r.Seeds {
		var pts plotter.XYs
		for _, f := range r.Frontier {
			if f.Trace == trace && f.Seed == seed {
				pts = append(pts, plotter.XY{X: f.PodSeconds, Y: 100 * f.FailedFraction})
			}
		}
		name := ""
		if i == 0 {
			name = "frontier (each seed)"
		}
		series = append(series, Points{Name: name, Color: grey, Radius: 1.5, Shape: 5, XY: pts},
			Points{Color: grey, Line: true, Dashed: i > 0, XY: Pareto(pts)})
	}
	var policies []string
	for _, row := range r.Rows {
		if row.Trace == trace && !slices.Contains(policies, row.Policy) {
			policies = append(policies, row.Policy)
		}
	}
	for i, pol := range policies {
		var pts plotter.XYs
		for _, row := range r.Rows {
			if row.Trace == trace && row.Policy == pol {
				pts = append(pts, plotter.XY{X: row.PodSeconds, Y: 100 * row.FailedFraction})
			}
		}
		series = append(series, Points{Name: pol, Color: plotutil.Color(i + 1), Shape: i, Radius: 3.5, XY: pts})
	}
	return WriteScatter(path, Scatter{Width: 24 * vg.Centimeter, Height: 16 * vg.Centimeter,
		Title: fmt.Sprintf("%s: failures vs cost (%d seeds)", trace, len(r.Seeds)), XLabel: "pod-seconds (log)",
		YLabel: "failed requests % (log; 0 drawn at 0.0001)", LogX: true, LogY: true, LegendBottomLeft: true, YFloor: 1e-4, Series: series})
}

// Pareto returns the points no other point beats on both axes (lower X and lower Y), by X.
func Pareto(pts plotter.XYs) plotter.XYs {
	sorted := slices.Clone(pts)
	slices.SortFunc(sorted, func(a, b plotter.XY) int {
		if a.X != b.X {
			return cmp.Compare(a.X, b.X)
		}
		return cmp.Compare(a.Y, b.Y)
	})
	var out plotter.XYs
	for _, p := range sorted {
		if len(out) == 0 || p.Y < out[len(out)-1].Y {
			out = append(out, p)
		}
	}
	return out
}
