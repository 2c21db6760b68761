package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/replay"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// Terminal describes stdout.
type Terminal struct {
	W     io.Writer
	TTY   bool // redraw a full frame; else append one line per refresh
	Width int
}

// demo is one run. cleanups run in reverse order on every exit path.
type demo struct {
	o        *Options
	term     Terminal
	tmp      string
	cleanups []func() error
	timings  report.Timings
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.term.W, ">>> "+format+"\n", a...) }

func (d *demo) onCleanup(f func() error) { d.cleanups = append(d.cleanups, f) }

// cleanup stops everything the demo started, newest first, and removes its temporary directory.
func (d *demo) cleanup() error {
	var errs []error
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		errs = append(errs, d.cleanups[i]())
	}
	d.cleanups = nil
	return errors.Join(errs...)
}

// run is the whole demo: plan the replay, bring everything up, replay with the live view, write
// the summary and the plot, and clean up on every path (also on error and Ctrl-C).
func run(ctx context.Context, o *Options, term Terminal) (err error) {
	began := time.Now()
	d := &demo{o: o, term: term}
	defer func() { err = errors.Join(err, d.cleanup()) }()

	plan, err := loadPlan(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if d.tmp, err = os.MkdirTemp("", "hsds-demo-"); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	d.onCleanup(func() error { return os.RemoveAll(d.tmp) })
	d.say("replay: %s", plan.Describe())

	env, err := d.setUp(ctx, plan)
	if err != nil {
		return err
	}
	res := d.replay(ctx, plan, env)
	res.Timings = d.timings
	res.Timings.Total = time.Since(began)
	if ctx.Err() != nil {
		res.Interrupted = "interrupted (" + context.Cause(ctx).Error() + ")"
	}
	if err := d.finish(res); err != nil || res.Interrupted != "" {
		return errors.Join(err, errIf(res.Interrupted))
	}
	return nil
}

func errIf(msg string) error {
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

// loadPlan reads the trace and cuts the slice (before anything starts: bad input costs nothing).
func loadPlan(o *Options) (replay.Plan, error) {
	path := o.Trace
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return replay.Plan{}, err
		}
		root, err := controlplane.RepoRoot(wd)
		if err != nil {
			return replay.Plan{}, fmt.Errorf("finding the repository root for the default trace (or pass --trace): %w", err)
		}
		path = filepath.Join(root, DefaultTrace)
	}
	s, err := trace.ReadFile(path, trace.DefaultParseOptions())
	if err != nil {
		return replay.Plan{}, err
	}
	return replay.NewPlan(s, o.replayParams())
}

// finish writes the summary and the plot and prints their paths.
func (d *demo) finish(res report.Result) error {
	summary := report.Summary(res)
	sumPath := filepath.Join(d.o.Out, "summary.txt")
	pngPath := filepath.Join(d.o.Out, "demo.png")
	errs := []error{os.WriteFile(sumPath, []byte(summary), 0o644)}
	if len(res.Samples) > 1 {
		errs = append(errs, report.WritePlot(pngPath, res))
	}
	fmt.Fprintln(d.term.W)
	fmt.Fprint(d.term.W, summary)
	d.say("summary: %s", sumPath)
	if len(res.Samples) > 1 {
		d.say("plot:    %s", pngPath)
	}
	d.say("logs:    %s", filepath.Join(d.o.Out, "*.log"))
	return errors.Join(errs...)
}

// setupLogging sends klog (the fake kubelet, the agents, client-go) to path, never to the screen.
func setupLogging(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	klog.LogToStderr(false)
	klog.SetOutput(f)
	return f, nil
}

// frame renders one snapshot on the terminal.
func (d *demo) frame(h view.Header, s view.Snapshot, first bool) {
	if !d.term.TTY {
		fmt.Fprintln(d.term.W, view.Line(s))
		return
	}
	if first {
		fmt.Fprint(d.term.W, view.ClearScreen)
	}
	fmt.Fprint(d.term.W, view.Redraw(view.Frame(h, s, d.term.Width)))
}
