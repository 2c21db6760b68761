package report

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// WritePlot draws one trace as a PNG at path: on top the offered load and each policy's serving
// capacity (req/s, 0 while HSDS is not READY), below each policy's spec.replicas, over
// simulated minutes.
func WritePlot(path string, t TraceInfo, timelines []Timeline) error {
	var mine []Timeline
	for _, tl := range timelines {
		if tl.Trace == t.Trace {
			mine = append(mine, tl)
		}
	}
	top, bottom, err := tracePlots(t, mine)
	if err != nil {
		return err
	}
	const w, h = 30 * vg.Centimeter, 22 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2, PadY: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

func tracePlots(t TraceInfo, tls []Timeline) (*plot.Plot, *plot.Plot, error) {
	top, bottom := plot.New(), plot.New()
	top.Title.Text = fmt.Sprintf("%s (scale x%.3g, compression %g, from t=%.0f s)", t.Trace, t.ScaleFactor, t.TimeCompression, t.SliceStartSeconds)
	top.Y.Label.Text = "req/s"
	bottom.Y.Label.Text = "spec.replicas"
	bottom.X.Label.Text = "simulated minutes"
	top.Legend.Top, bottom.Legend.Top = true, true
	if len(tls) > 0 {
		load := xy(tls[0].Points, func(p pointView) float64 { return p.load })
		l, err := plotter.NewLine(load)
		if err != nil {
			return nil, nil, fmt.Errorf("plot load: %w", err)
		}
		l.Width = vg.Points(1.5)
		top.Add(l)
		top.Legend.Add("offered load", l)
	}
	for i, tl := range tls {
		c := plotutil.Color(i + 1)
		capLine, err := plotter.NewLine(xy(tl.Points, func(p pointView) float64 { return p.capacity }))
		if err != nil {
			return nil, nil, fmt.Errorf("plot capacity: %w", err)
		}
		capLine.Color, capLine.Width = c, vg.Points(0.7)
		top.Add(capLine)
		top.Legend.Add(tl.Policy+" capacity", capLine)
		repLine, err := plotter.NewLine(xy(tl.Points, func(p pointView) float64 { return p.spec }))
		if err != nil {
			return nil, nil, fmt.Errorf("plot replicas: %w", err)
		}
		repLine.Color, repLine.Width = c, vg.Points(1)
		bottom.Add(repLine)
		bottom.Legend.Add(tl.Policy, repLine)
	}
	return top, bottom, nil
}

type pointView struct{ load, capacity, spec float64 }

func xy(pts []sim.Point, f func(pointView) float64) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, p := range pts {
		out[i].X = p.T / 60
		out[i].Y = f(pointView{load: p.Load, capacity: p.Capacity, spec: float64(p.Spec)})
	}
	return out
}
