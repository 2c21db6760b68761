package trace

import (
	"errors"
	"fmt"
	"math"
)

// Shape names a generated scenario.
type Shape string

// Generated shapes.
const (
	ShapeStep    Shape = "step"    // Base, then Peak from Duration/4 to the end
	ShapeRamp    Shape = "ramp"    // linear from Base to Peak over the first half, then Peak
	ShapeFlash   Shape = "flash"   // Base, with a flash crowd at Duration/3: Peak within 60 s, decaying over 10 min
	ShapeDiurnal Shape = "diurnal" // sinusoid between Base and Peak with period Duration (trough at 0)
	// ShapeColdStart is a burst on an idle service: no load until Duration/4, Peak at once for
	// Duration/4, then Base.
	ShapeColdStart Shape = "coldstart"
	// ShapeSawtooth ramps from Base to Peak over 9 minutes, holds it for one, then drops back to
	// Base, every 10 minutes.
	ShapeSawtooth Shape = "sawtooth"
	// ShapeFanout is a batch job fanning out to many clients: Base, with 30 s bursts at Peak
	// every 5 minutes.
	ShapeFanout Shape = "fanout"
)

// Shapes lists every generated shape.
var Shapes = [...]Shape{ShapeStep, ShapeRamp, ShapeFlash, ShapeDiurnal, ShapeColdStart, ShapeSawtooth, ShapeFanout}

// Gen describes a generated trace.
type Gen struct {
	Shape    Shape
	Base     float64 // requests/s
	Peak     float64 // requests/s
	Duration float64 // seconds
	Step     float64 // seconds per bin
}

// Validate returns every problem with g.
func (g Gen) Validate() error {
	var errs []error
	switch g.Shape {
	case ShapeStep, ShapeRamp, ShapeFlash, ShapeDiurnal, ShapeColdStart, ShapeSawtooth, ShapeFanout:
	default:
		errs = append(errs, fmt.Errorf("shape %q: want one of %v", g.Shape, Shapes))
	}
	if !(g.Base >= 0 && g.Peak >= g.Base) {
		errs = append(errs, fmt.Errorf("base %g, peak %g: want 0 <= base <= peak", g.Base, g.Peak))
	}
	if !(g.Step > 0 && g.Duration >= 2*g.Step) {
		errs = append(errs, fmt.Errorf("duration %g, step %g: want step > 0 and at least 2 bins", g.Duration, g.Step))
	}
	return errors.Join(errs...)
}

// Generate builds the series g describes, named after the shape.
func Generate(g Gen) (Series, error) {
	if err := g.Validate(); err != nil {
		return Series{}, fmt.Errorf("generate: %w", err)
	}
	n := int(g.Duration / g.Step)
	s := Series{Name: string(g.Shape), Step: g.Step, Rates: make([]float64, n)}
	for i := range s.Rates {
		s.Rates[i] = g.rate(float64(i) * g.Step)
	}
	return s, nil
}

func (g Gen) rate(t float64) float64 {
	d := g.Peak - g.Base
	switch g.Shape {
	case ShapeStep:
		if t >= g.Duration/4 {
			return g.Peak
		}
		return g.Base
	case ShapeRamp:
		return g.Base + d*math.Min(1, t/(g.Duration/2))
	case ShapeFlash:
		at := g.Duration / 3
		switch {
		case t < at:
			return g.Base
		case t < at+60:
			return g.Base + d*(t-at)/60
		default:
			return g.Base + d*math.Exp(-(t-at-60)/600)
		}
	case ShapeColdStart:
		switch {
		case t < g.Duration/4:
			return 0
		case t < g.Duration/2:
			return g.Peak
		}
		return g.Base
	case ShapeSawtooth:
		return g.Base + d*math.Min(1, math.Mod(t, 600)/540)
	case ShapeFanout:
		if math.Mod(t, 300) >= 270 {
			return g.Peak
		}
		return g.Base
	default: // diurnal
		return g.Base + d*(1-math.Cos(2*math.Pi*t/g.Duration))/2
	}
}
