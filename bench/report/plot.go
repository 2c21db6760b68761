package report

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// WritePlot draws one trace as a PNG at path: on top the offered load (the mean of each recorded
// interval, so a per-second trace is not cut down to the instants it was sampled at) and each
// policy's serving capacity (req/s, 0 while HSDS is not READY), below each policy's
// spec.replicas, over simulated minutes.
func WritePlot(path string, t TraceInfo, timelines []Timeline) error {
	var mine []Timeline
	for _, tl := range timelines {
		if tl.Trace == t.Trace {
			mine = append(mine, tl)
		}
	}
	top := Panel{
		Title:  fmt.Sprintf("%s (scale x%.3g, compression %g, from t=%.0f s)", t.Trace, t.ScaleFactor, t.TimeCompression, t.SliceStartSeconds),
		YLabel: "req/s",
	}
	bottom := Panel{YLabel: "spec.replicas"}
	if len(mine) > 0 {
		top.Lines = append(top.Lines, Line{Name: "offered load", Width: 1.5, XY: xy(mine[0].Points, func(p sim.Point) float64 { return p.Load })})
	}
	for i, tl := range mine {
		c := plotutil.Color(i + 1)
		top.Lines = append(top.Lines, Line{Name: tl.Policy + " capacity", Color: c, Width: 0.7,
			XY: xy(tl.Points, func(p sim.Point) float64 { return p.Capacity })})
		bottom.Lines = append(bottom.Lines, Line{Name: tl.Policy, Color: c, Width: 1,
			XY: xy(tl.Points, func(p sim.Point) float64 { return float64(p.Spec) })})
	}
	return WritePNG(path, Figure{Width: 30 * vg.Centimeter, Height: 22 * vg.Centimeter, XLabel: "simulated minutes",
		Panels: []Panel{top, bottom}})
}

func xy(pts []sim.Point, f func(sim.Point) float64) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, p := range pts {
		out[i] = plotter.XY{X: p.T, Y: f(p)}
	}
	return out
}
