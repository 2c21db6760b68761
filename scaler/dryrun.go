package scaler

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// DryRunStep is one control step as `hsds-autoscaler dry-run` prints it, on a trace (the
// simulated cluster's controller acts, on the simulator only) or live (a dry-run controller,
// which writes nothing). WriteDryRunSteps is its one formatter.
type DryRunStep struct {
	// TimeSeconds is the step's time in seconds since the run started: simulated seconds since
	// the start of the replayed slice, or wall seconds since the live observation started.
	TimeSeconds float64 `json:"t_seconds"`
	// Time is the wall time of a live step (RFC 3339, UTC); empty on a trace.
	Time        string   `json:"time,omitempty"`
	Current     int32    `json:"current"`
	Recommended int32    `json:"recommended"`
	Desired     int32    `json:"desired"`
	Reason      string   `json:"reason"`
	Message     string   `json:"message,omitempty"`
	Guards      []string `json:"guards,omitempty"`
	Acted       bool     `json:"acted"`
	DryRun      bool     `json:"dryRun"`
	Ready       int32    `json:"ready"`
	Pending     int32    `json:"pending"`
}

// NewDryRunStep is o as a printed step; start is when the run started. With wall set, Time holds
// o's time (a live run); else it is left empty (a trace's simulated clock means nothing on a
// calendar).
func NewDryRunStep(o Outcome, start time.Time, wall bool) DryRunStep {
	s := DryRunStep{
		TimeSeconds: o.Time.Sub(start).Seconds(), Current: o.Current, Recommended: o.Decision.Replicas,
		Desired: o.Desired, Reason: o.Reason, Message: o.Decision.Message, Guards: o.Guards,
		Acted: o.Acted, DryRun: o.DryRun, Ready: o.Ready, Pending: o.Pending,
	}
	if wall {
		s.Time = o.Time.UTC().Format(time.RFC3339)
	}
	return s
}

// WriteDryRunSteps writes steps as text, one line each:
//
//	t=<s> [time=<RFC 3339>] current=<n> recommended=<n> desired=<n> reason=<code> guards=<a,b> acted=<bool> ready=<n> pending=<n> message="..."
//
// or, with format "json", as one indented JSON array.
func WriteDryRunSteps(w io.Writer, format string, steps []DryRunStep) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if steps == nil {
			steps = []DryRunStep{}
		}
		return enc.Encode(steps)
	}
	for _, s := range steps {
		wall := ""
		if s.Time != "" {
			wall = " time=" + s.Time
		}
		if _, err := fmt.Fprintf(w, "t=%.0f%s current=%d recommended=%d desired=%d reason=%s guards=%s acted=%t ready=%d pending=%d message=%q\n",
			s.TimeSeconds, wall, s.Current, s.Recommended, s.Desired, s.Reason, strings.Join(s.Guards, ","), s.Acted,
			s.Ready, s.Pending, s.Message); err != nil {
			return err
		}
	}
	return nil
}
