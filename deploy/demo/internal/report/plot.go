package report

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Line colours of the plot.
var (
	colOffered  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colServed   = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colRejected = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colCapacity = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colPending  = color.RGBA{R: 148, G: 103, B: 189, A: 255}
)

// WritePlot draws r as a PNG at path: offered load, served and 503 rates and the nominal capacity
// on top (req/s), spec.replicas, ready and pending pods below, over seconds of replay.
func WritePlot(path string, r Result) error {
	top, bottom, err := plots(r)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	const w, h = 28 * vg.Centimeter, 20 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadY: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

type series struct {
	name  string
	col   color.Color
	width vg.Length
	dash  bool
	f     func(Sample) float64
}

func plots(r Result) (*plot.Plot, *plot.Plot, error) {
	top, bottom := plot.New(), plot.New()
	top.Title.Text = r.Plan
	top.Title.TextStyle.Font.Size = vg.Points(8)
	top.Y.Label.Text = "req/s"
	bottom.Y.Label.Text = "pods"
	bottom.X.Label.Text = "seconds of replay"
	top.Legend.Top, bottom.Legend.Top = true, true
	top.Legend.Left, bottom.Legend.Left = true, true
	upper := []series{
		{"offered load (trace)", colOffered, 1.6, false, func(s Sample) float64 { return s.Offered }},
		{"served", colServed, 1, false, func(s Sample) float64 { return math.Max(0, s.Attempts-sum(s.Rejected)) }},
		{"503/s (all causes)", colRejected, 1, false, func(s Sample) float64 { return sum(s.Rejected) }},
		{"capacity of ready pods (nominal)", colCapacity, 1.4, true, func(s Sample) float64 { return s.Capacity }},
	}
	lower := []series{
		{"spec.replicas", colOffered, 1.6, false, func(s Sample) float64 { return s.Spec }},
		{"ready (HSDS READY)", colServed, 1.2, false, func(s Sample) float64 { return s.Ready }},
		{"pending", colPending, 1, true, func(s Sample) float64 { return s.Pending }},
	}
	if err := addLines(top, r.Samples, upper); err != nil {
		return nil, nil, err
	}
	if err := addLines(bottom, r.Samples, lower); err != nil {
		return nil, nil, err
	}
	top.Y.Min, bottom.Y.Min = 0, 0
	bottom.Y.Max = math.Max(bottom.Y.Max+1, 2)
	return top, bottom, nil
}

func addLines(p *plot.Plot, ss []Sample, lines []series) error {
	for _, sr := range lines {
		pts := make(plotter.XYs, 0, len(ss))
		for _, s := range ss {
			if v := sr.f(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
				pts = append(pts, plotter.XY{X: s.T, Y: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("line %s: %w", sr.name, err)
		}
		l.Color, l.Width = sr.col, vg.Points(float64(sr.width))
		if sr.dash {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(sr.name, l)
	}
	return nil
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
