package view

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Causes are the 503 causes in display order (agent/schema).
var Causes = []string{"overload", "not_ready", "upstream"}

// Pod is one HSDS pod as the view shows it.
type Pod struct {
	Name  string
	IP    string // "" while Pending
	Phase string // Pending, Running, ...
	// Unschedulable is true for a Pending pod that did not fit (waiting for the cluster autoscaler).
	Unschedulable bool
	// State is the SN state from the agent ("READY", "WAITING"), "" when unknown.
	State string
	// InFlight and Limit are the agent's in-flight tasks and task limit; NaN when unknown.
	InFlight, Limit float64
}

// Clients are the load generator's totals (logical requests after h5pyd's retries).
type Clients struct {
	Requests, Succeeded, Failed, Dropped int64
}

// Snapshot is everything one refresh shows.
type Snapshot struct {
	Elapsed, Duration time.Duration
	// Offered is the trace's arrival rate now (req/s); Attempts the client-facing responses/s the
	// agents counted (retries included); Rejected the 503/s by cause.
	Offered, Attempts float64
	Rejected          map[string]float64
	// Client500 and Client503 are the 500 and 503 answers/s the clients saw (retries included):
	// real HSDS answers a rescale with 500s (keys of another partition), which no agent counts.
	Client500, Client503 float64
	Clients              Clients
	// Capacity is the nominal capacity of the serving pods (req/s).
	Capacity float64
	// Replicas as serve's metrics report them (NaN until the scaler runs): desired after guards,
	// spec.replicas, ready (Running, Ready and HSDS READY), pending.
	Desired, Spec, Ready, Pending float64
	// Decision is the scaler's last decision "reason/direction"; Guards the guards active at it.
	Decision string
	Guards   []string
	// LastChange describes the last replica change ("t=62s 2 -> 4: overload ..."), "" before any.
	LastChange string
	Pods       []Pod
}

// Header lines printed above every frame (trace plan, commands, URLs).
type Header []string

// Frame is the full-screen view (no escapes): the header (unclipped), then the figures, at most
// width columns wide.
func Frame(h Header, s Snapshot, width int) string {
	var b strings.Builder
	line := func(format string, a ...any) {
		b.WriteString(strings.TrimRight(clip(fmt.Sprintf(format, a...), width), " ") + "\n")
	}
	phase := ""
	if s.Elapsed < 0 {
		phase = "  (warm-up)"
	}
	line("hsds-autoscaler demo   t=%s / %s%s", secs(s.Elapsed), secs(s.Duration), phase)
	for _, l := range h {
		b.WriteString(l + "\n") // never clipped: the commands must stay copyable
	}
	line("")
	line("load      offered %5.1f req/s   attempts %5.1f/s   served %5.1f/s   capacity %5.1f req/s",
		s.Offered, s.Attempts, served(s), s.Capacity)
	line("503/s     %s   total %5.1f/s", causes(s.Rejected), total(s.Rejected))
	line("errors    500 %5.1f/s   503 %5.1f/s   (what the clients saw, retries included)", s.Client500, s.Client503)
	line("clients   %d requests: %d ok, %d failed after retries, %d dropped", s.Clients.Requests, s.Clients.Succeeded, s.Clients.Failed, s.Clients.Dropped)
	line("replicas  desired %s   spec %s   ready %s   pending %s", num(s.Desired), num(s.Spec), num(s.Ready), num(s.Pending))
	line("scaler    last decision %s   guards %s", orDash(s.Decision), orDash(strings.Join(s.Guards, ",")))
	line("          last change   %s", orDash(s.LastChange))
	line("")
	line("%-28s %-10s %-9s %-9s %s", "POD", "IP", "STATE", "IN-FLIGHT", "OF LIMIT")
	for _, p := range s.Pods {
		line("%-28s %-10s %-9s %-9s %s", p.Name, orDash(p.IP), podState(p), inflight(p), bar(p.InFlight, p.Limit, 20))
	}
	for _, p := range s.Pods {
		if p.Phase == "Pending" && p.Unschedulable {
			line("Pending* = unschedulable: no free pod slot, waiting for the (simulated) cluster autoscaler")
			break
		}
	}
	return b.String()
}

// Line is the one-line form for a non-terminal stdout.
func Line(s Snapshot) string {
	c := make([]string, len(Causes))
	for i, k := range Causes {
		c[i] = fmt.Sprintf("%s=%.1f", k, s.Rejected[k])
	}
	return fmt.Sprintf("t=%s offered=%.1f attempts=%.1f served=%.1f capacity=%.1f 503/s[%s] clients[500=%.1f 503=%.1f] replicas desired=%s spec=%s ready=%s pending=%s decision=%s guards=%s",
		secs(s.Elapsed), s.Offered, s.Attempts, served(s), s.Capacity, strings.Join(c, " "), s.Client500, s.Client503,
		num(s.Desired), num(s.Spec), num(s.Ready), num(s.Pending), orDash(s.Decision), orDash(strings.Join(s.Guards, ",")))
}

// Redraw wraps a frame in the ANSI escapes that move the cursor home, draw it over the previous
// one and clear what is left below.
func Redraw(frame string) string {
	return "\x1b[H" + strings.ReplaceAll(frame, "\n", "\x1b[K\n") + "\x1b[J"
}

// ClearScreen clears the terminal once before the first frame.
const ClearScreen = "\x1b[2J\x1b[H"

func served(s Snapshot) float64 { return math.Max(0, s.Attempts-total(s.Rejected)) }

func total(m map[string]float64) float64 {
	t := 0.0
	for _, c := range Causes {
		t += m[c]
	}
	return t
}

func causes(m map[string]float64) string {
	parts := make([]string, len(Causes))
	for i, c := range Causes {
		parts[i] = fmt.Sprintf("%s %5.1f", c, m[c])
	}
	return strings.Join(parts, "  ")
}

func podState(p Pod) string {
	switch {
	case p.Phase == "Pending" && p.Unschedulable:
		return "Pending*"
	case p.Phase != "Running":
		return p.Phase
	case p.State == "":
		return "Running"
	}
	return p.State
}

func inflight(p Pod) string {
	if math.IsNaN(p.InFlight) || math.IsNaN(p.Limit) {
		return "-"
	}
	return fmt.Sprintf("%.0f/%.0f", p.InFlight, p.Limit)
}

// bar draws in-flight over limit as a fixed-width bar of '#' and '.'.
func bar(v, limit float64, width int) string {
	if math.IsNaN(v) || math.IsNaN(limit) || limit <= 0 {
		return ""
	}
	n := int(math.Round(math.Min(1, v/limit) * float64(width)))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + fmt.Sprintf("] %3.0f%%", 100*v/limit)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.0fs", d.Seconds()) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, width int) string {
	if width > 0 && len(s) > width {
		return s[:width]
	}
	return s
}
