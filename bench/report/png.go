package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Line is one series of a Panel. X is in seconds; points whose Y is NaN or infinite are left out.
type Line struct {
	Name   string
	Color  color.Color
	Width  float64 // points
	Dashed bool
	XY     plotter.XYs
}

// Panel is one plot of a figure: its lines and labels, and an optional last adjustment of the
// plot (axis ranges) once the lines are in.
type Panel struct {
	Title      string
	TitleSize  float64 // points; 0 keeps the default
	YLabel     string
	LegendLeft bool
	Lines      []Line
	Adjust     func(*plot.Plot)
}

// Figure is what WritePNG draws: panels stacked top to bottom over one time axis, labelled in
// whole minutes.
type Figure struct {
	Width, Height vg.Length
	// XLabel names the time axis (minutes), e.g. "simulated minutes".
	XLabel string
	Panels []Panel
}

// WritePNG draws f as a PNG at path. It is the one plot writer of bench (one figure per trace)
// and the demo (demo.png).
func WritePNG(path string, f Figure) error {
	plots := make([][]*plot.Plot, len(f.Panels))
	for i, pn := range f.Panels {
		p, err := pn.plot()
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		if i == len(f.Panels)-1 {
			p.X.Label.Text = f.XLabel
		}
		plots[i] = []*plot.Plot{p}
	}
	img := vgimg.New(f.Width, f.Height)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadY: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, draw.New(img))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	return savePNG(img, path)
}

// savePNG writes a drawn image to path as PNG: the one file writer of WritePNG and WriteScatter.
func savePNG(img *vgimg.Canvas, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		_ = out.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

func (pn Panel) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	if pn.TitleSize > 0 {
		p.Title.TextStyle.Font.Size = vg.Points(pn.TitleSize)
	}
	p.Y.Label.Text = pn.YLabel
	p.Legend.Top, p.Legend.Left = true, pn.LegendLeft
	p.X.Tick.Marker = MinuteTicks{}
	for _, ln := range pn.Lines {
		pts := make(plotter.XYs, 0, len(ln.XY))
		for _, xy := range ln.XY {
			if !math.IsNaN(xy.Y) && !math.IsInf(xy.Y, 0) {
				pts = append(pts, plotter.XY{X: xy.X / 60, Y: xy.Y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", ln.Name, err)
		}
		l.Color, l.Width = ln.Color, vg.Points(ln.Width)
		if ln.Dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(ln.Name, l)
	}
	if pn.Adjust != nil {
		pn.Adjust(p)
	}
	return p, nil
}

// minuteSteps are the spacings of labelled ticks, in minutes.
var minuteSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080}

// MinuteTicks marks a time axis in minutes with ticks at whole minutes: about six labelled ticks at
// a round spacing (1, 2, 5, 10, 15, 30 minutes, 1, 2, 3, 4, 6, 12 hours, ...), labelled as whole
// numbers, and unlabelled ones between.
type MinuteTicks struct{}

// Ticks implements plot.Ticker.
func (MinuteTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	step := minuteSteps[len(minuteSteps)-1]
	for _, s := range minuteSteps {
		if (hi-lo)/s <= 8 {
			step = s
			break
		}
	}
	minor := step / 5
	if step <= 2 || step == 15 || step == 30 || step == 180 {
		minor = step / 3
	}
	if step == 1 {
		minor = 0.25 // 15 s
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/minor) * minor; v <= hi+1e-9; v += minor {
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v-r*step) < 1e-6 {
			t.Label = strconv.FormatFloat(r*step+0, 'f', -1, 64) // +0: no "-0"
		}
		ticks = append(ticks, t)
	}
	return ticks
}
