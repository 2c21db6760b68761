package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// Report is what Run produced (report.Report: rows, goals, the replays' parameters).
type Report = report.Report

// Config is one bench run.
type Config struct {
	// Traces are trace files in the `t_seconds,requests_per_second` format.
	Traces []string
	// Generated are synthetic traces (step, ramp, flash, diurnal) replayed besides Traces.
	Generated []trace.Gen
	// Policies are policy names (AllPolicies). The oracle always runs (its pod-seconds are a
	// column of every row); its row is reported only when listed.
	Policies []string
	// Scenario is the simulated cluster.
	Scenario sim.Scenario
	// ScenarioFile, when set, is decoded (strict YAML/JSON, over the defaults) into Scenario by
	// Complete; --sim-* flags given explicitly override it.
	ScenarioFile string
	// PolicyFile, when set, is the ScalingPolicy (scaler.LoadPolicyFile) whose policy and guards
	// the "hsds" policy runs with; else heuristics.DefaultPolicy and scaler.DefaultGuards.
	PolicyFile string
	// Seed fixes every random draw; the same seed gives the same report.
	Seed uint64
	// OutDir receives report.json, report.md and <trace>.png ("" writes nothing).
	OutDir string
	// Parallel is how many replays run at once (default GOMAXPROCS).
	Parallel int
	// Progress receives a one-line progress bar (nil: none).
	Progress io.Writer
	// Extra adds policies beyond the built-in ones (tests).
	Extra []Policy

	completed bool
}

// DefaultTraceDir is where the shipped traces live, relative to the repository root.
const DefaultTraceDir = "bench/traces"

// NewConfig returns the defaults: every shipped trace in DefaultTraceDir, every policy, the
// default scenario, seed 1, output to bench/out.
func NewConfig() Config {
	return Config{
		Traces:   nil, // filled by ShippedTraces when empty (see Complete)
		Policies: AllPolicies(),
		Scenario: sim.DefaultScenario(),
		Seed:     1,
		OutDir:   "bench/out",
		Parallel: runtime.GOMAXPROCS(0),
	}
}

// AddFlags binds the configuration and every scenario knob to fs.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&c.Traces, "traces", c.Traces, "trace files (comma- or space-separated); default every *.csv in "+DefaultTraceDir)
	fs.StringSliceVar(&c.Policies, "policies", c.Policies, "policies to compare: "+strings.Join(AllPolicies(), ","))
	fs.StringVar(&c.ScenarioFile, "scenario", c.ScenarioFile, "scenario file (YAML/JSON, strict); flags override it")
	fs.StringVar(&c.PolicyFile, "policy", c.PolicyFile, "ScalingPolicy file for the hsds policy (default: built-in defaults)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "output directory for report.json, report.md and plots")
	fs.IntVar(&c.Parallel, "parallel", c.Parallel, "replays run at once")
	c.Scenario.AddFlags(fs)
}

// Complete fills what depends on the file system and the command line: the scenario file (then
// every --sim-* flag set explicitly on fs, which may be nil, is applied again over it); trace
// arguments holding spaces (make bench TRACES="a.csv b.csv") split into files; with no trace and
// no generated scenario, every *.csv under DefaultTraceDir. Run calls it when the caller has not.
func (c *Config) Complete(fs *pflag.FlagSet) error {
	c.completed = true
	if c.ScenarioFile != "" {
		if err := c.loadScenario(fs); err != nil {
			return err
		}
	}
	var files []string
	for _, t := range c.Traces {
		files = append(files, strings.Fields(t)...)
	}
	c.Traces = files
	if len(c.Traces) == 0 && len(c.Generated) == 0 {
		shipped, err := filepath.Glob(filepath.Join(DefaultTraceDir, "*.csv"))
		if err != nil {
			return fmt.Errorf("list shipped traces: %w", err)
		}
		sort.Strings(shipped)
		c.Traces = shipped
	}
	return nil
}

// loadScenario decodes ScenarioFile into Scenario and re-applies the explicit --sim-* flags.
func (c *Config) loadScenario(fs *pflag.FlagSet) error {
	explicit := map[string]string{}
	if fs != nil {
		fs.Visit(func(f *pflag.Flag) {
			if strings.HasPrefix(f.Name, "sim-") {
				explicit[f.Name] = f.Value.String()
			}
		})
	}
	sc, err := sim.LoadScenario(c.ScenarioFile)
	if err != nil {
		return err
	}
	c.Scenario = sc
	for name, v := range explicit {
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("flag --%s over the scenario file: %w", name, err)
		}
	}
	return nil
}

// Validate returns every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Traces)+len(c.Generated) == 0 {
		errs = append(errs, errors.New("no trace to replay"))
	}
	for _, t := range c.Traces {
		if _, err := os.Stat(t); err != nil {
			errs = append(errs, fmt.Errorf("trace %q: %w", t, err))
		}
	}
	for _, g := range c.Generated {
		if err := g.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("generated trace: %w", err))
		}
	}
	if len(c.Policies) == 0 {
		errs = append(errs, errors.New("no policy to compare"))
	}
	known := policyNames(c.Extra)
	for _, p := range c.Policies {
		if !slices.Contains(known, p) {
			errs = append(errs, fmt.Errorf("policy %q: want one of %s", p, strings.Join(known, ", ")))
		}
	}
	if c.Parallel < 1 {
		errs = append(errs, fmt.Errorf("parallel %d: must be >= 1", c.Parallel))
	}
	if err := c.Scenario.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("scenario: %w", err))
	}
	return errors.Join(errs...)
}

// Run replays every trace through every policy, writes the report files into OutDir (when set)
// and returns the report. Runs are deterministic for Config.Seed.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if !cfg.completed {
		if err := cfg.Complete(nil); err != nil {
			return Report{}, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return Report{}, fmt.Errorf("bench config: %w", err)
	}
	pols, err := resolvePolicies(cfg)
	if err != nil {
		return Report{}, err
	}
	capacity, err := sim.MeasureCapacities(cfg.Scenario, cfg.Seed)
	if err != nil {
		return Report{}, fmt.Errorf("bench: %w", err)
	}
	replays, err := loadReplays(cfg, &capacity)
	if err != nil {
		return Report{}, err
	}
	jobs := plan(replays, pols, cfg.Scenario.TickSeconds)
	prog := newProgress(cfg.Progress, jobs)
	results, err := runJobs(ctx, jobs, cfg, prog)
	prog.finish()
	if err != nil {
		return Report{}, err
	}
	rep := buildReport(cfg, replays, results)
	rep.OracleCapacity = capacity
	if cfg.OutDir != "" {
		if err := report.WriteAll(cfg.OutDir, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// runJobs runs the jobs on cfg.Parallel workers; results come back in job order.
func runJobs(ctx context.Context, jobs []job, cfg Config, prog *progress) ([]result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]result, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Parallel, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = runJob(ctx, jobs[i], cfg, prog, nil)
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, ctx.Err()
}
