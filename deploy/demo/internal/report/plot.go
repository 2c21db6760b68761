package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	benchreport "github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
)

// Line colours of the plot.
var (
	colOffered  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colServed   = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colRejected = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colCapacity = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colPending  = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	col500      = color.RGBA{R: 140, G: 86, B: 75, A: 255}
)

// WritePlot draws r as a PNG at path (bench/report.WritePNG, the writer bench's plots use too):
// offered load, served and 503 rates, the 500s the clients saw and the nominal capacity on top (req/s), spec.replicas, ready
// and pending pods below, over minutes of replay.
func WritePlot(path string, r Result) error {
	line := func(name string, c color.Color, width float64, dashed bool, f func(Sample) float64) benchreport.Line {
		pts := make(plotter.XYs, len(r.Samples))
		for i, s := range r.Samples {
			pts[i] = plotter.XY{X: s.T, Y: f(s)}
		}
		return benchreport.Line{Name: name, Color: c, Width: width, Dashed: dashed, XY: pts}
	}
	top := benchreport.Panel{Title: r.Plan, TitleSize: 8, YLabel: "req/s", LegendLeft: true,
		Lines: []benchreport.Line{
			line("offered load (trace)", colOffered, 1.6, false, func(s Sample) float64 { return s.Offered }),
			line("served", colServed, 1, false, func(s Sample) float64 { return math.Max(0, s.Attempts-sum(s.Rejected)) }),
			line("503/s (all causes)", colRejected, 1, false, func(s Sample) float64 { return sum(s.Rejected) }),
			line("500/s (clients)", col500, 1, true, func(s Sample) float64 { return s.Client500 }),
			line("capacity of ready pods (nominal)", colCapacity, 1.4, true, func(s Sample) float64 { return s.Capacity }),
		},
		Adjust: func(p *plot.Plot) { p.Y.Min = 0 },
	}
	bottom := benchreport.Panel{YLabel: "pods", LegendLeft: true,
		Lines: []benchreport.Line{
			line("spec.replicas", colOffered, 1.6, false, func(s Sample) float64 { return s.Spec }),
			line("ready (HSDS READY)", colServed, 1.2, false, func(s Sample) float64 { return s.Ready }),
			line("pending", colPending, 1, true, func(s Sample) float64 { return s.Pending }),
		},
		Adjust: func(p *plot.Plot) { p.Y.Min, p.Y.Max = 0, math.Max(p.Y.Max+1, 2) },
	}
	return benchreport.WritePNG(path, benchreport.Figure{Width: 28 * vg.Centimeter, Height: 20 * vg.Centimeter,
		XLabel: "minutes of replay", Panels: []benchreport.Panel{top, bottom}})
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
