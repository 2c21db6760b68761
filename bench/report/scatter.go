package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Points is one series of a Scatter: glyphs at its points, joined by a line when Line is set
// (in the order given).
type Points struct {
	Name  string
	Color color.Color
	// Shape picks the glyph (plotutil's order: ring, square, triangle, plus, cross, ...).
	Shape  int
	Radius float64 // points; 0 draws no glyph
	Line   bool
	Dashed bool
	XY     plotter.XYs
}

// Scatter is what WriteScatter draws: one plot of point series over two value axes, the X axis
// logarithmic when LogX (points at or below zero are left out), the Y axis when LogY (values at
// or below zero are drawn at YFloor).
type Scatter struct {
	Width, Height  vg.Length
	Title          string
	XLabel, YLabel string
	LogX, LogY     bool
	// LegendBottomLeft moves the legend from the top right to the bottom left.
	LegendBottomLeft bool
	YFloor           float64
	Series           []Points
}

// WriteScatter draws s as a PNG at path: the value-vs-value writer beside WritePNG (which draws
// series over time).
func WriteScatter(path string, s Scatter) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = s.Title, s.XLabel, s.YLabel
	p.Legend.Top, p.Legend.Left = !s.LegendBottomLeft, s.LegendBottomLeft
	if s.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if s.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	for _, ser := range s.Series {
		pts := make(plotter.XYs, 0, len(ser.XY))
		for _, xy := range ser.XY {
			if math.IsNaN(xy.X) || math.IsNaN(xy.Y) || math.IsInf(xy.Y, 0) || (s.LogX && xy.X <= 0) {
				continue
			}
			if s.LogY && xy.Y <= s.YFloor {
				xy.Y = s.YFloor
			}
			pts = append(pts, xy)
		}
		if len(pts) == 0 {
			continue
		}
		var thumbs []plot.Thumbnailer
		if ser.Line {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %s: %w", path, ser.Name, err)
			}
			l.Color = ser.Color
			if ser.Dashed {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			}
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if ser.Radius > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %s: %w", path, ser.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: ser.Color, Radius: vg.Points(ser.Radius), Shape: glyph(ser.Shape)}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if ser.Name != "" {
			p.Legend.Add(ser.Name, thumbs...)
		}
	}
	if s.LogX {
		p.X.Min, p.X.Max = logRange(p.X.Min, p.X.Max)
	}
	if s.LogY {
		p.Y.Min, p.Y.Max = logRange(p.Y.Min, p.Y.Max)
	}
	img := vgimg.New(s.Width, s.Height)
	p.Draw(draw.New(img))
	return savePNG(img, path)
}

// logRange makes an axis range a logarithmic scale can draw: positive and not empty. An axis with
// no point (every series empty) or a single value would make gonum's log ticks panic.
func logRange(lo, hi float64) (float64, float64) {
	if !(hi > 0) {
		return 1, 10
	}
	if !(lo > 0) || lo >= hi {
		lo = math.Min(lo, hi)
		if !(lo > 0) {
			lo = hi
		}
		lo, hi = lo/2, hi*2
	}
	return lo, hi
}

func glyph(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PlusGlyph{},
		draw.CrossGlyph{}, draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}
	return shapes[((i%len(shapes))+len(shapes))%len(shapes)]
}

// logTicks labels a logarithmic axis at 1, 2 and 5 x each power of ten (plot.LogTicks labels
// powers of ten only, too few over the one or two decades of a frontier's pod-seconds).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
