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
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/frontier"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// Report is what Run produced (report.Report: rows, frontier, goals, the replays' parameters).
type Report = report.Report

// Config is one bench run.
type Config struct {
	// Traces are trace files in the `t_seconds,requests_per_second` format; when empty, every
	// shipped trace (DefaultTraceDir) unless OnlyGenerated.
	Traces        []string
	OnlyGenerated bool
	// Generated are synthetic traces (trace.Shapes) replayed besides Traces (default
	// DefaultGenerated; the --shapes flag picks them by name).
	Generated []trace.Gen
	// Policies are policy names (AllPolicies).
	Policies []string
	// Lambdas are the frontier DP's λ sweep (pod-seconds one expected failure is worth; default
	// frontier.DefaultLambdas). Every fixed replica count is in the frontier whatever they are.
	Lambdas []float64
	// SkipFrontier replays the policies only (no frontier schedules, so no goal (c)): a quick
	// comparison while working on a policy; the figures of record come with the frontier.
	SkipFrontier bool
	// Scenario is the simulated cluster.
	Scenario sim.Scenario
	// ScenarioFile, when set, is decoded (strict YAML/JSON, over the defaults) into Scenario by
	// Complete; --sim-* flags given explicitly override it.
	ScenarioFile string
	// PolicyFile, when set, is the ScalingPolicy (scaler.LoadPolicyFile) whose policy and guards
	// the "hsds" policy runs with; else heuristics.DefaultPolicy and scaler.DefaultGuards.
	PolicyFile string
	// Seeds: every trace is replayed once per seed, policies and frontier alike; a seed fixes
	// every random draw, the same seeds give the same report.
	Seeds []uint64
	// OutDir receives report.json, report.md, <trace>.png and <trace>-frontier.png ("" writes
	// nothing).
	OutDir string
	// Parallel is how many replays run at once (default GOMAXPROCS).
	Parallel int
	// Progress receives a one-line progress bar (nil: none).
	Progress io.Writer
	// Extra adds policies beyond the built-in ones (tests).
	Extra []Policy

	completed bool
	seedArgs  []string // --seeds, split and parsed by Complete
	shapeArgs []string // --shapes, resolved by Complete
}

// DefaultTraceDir is where the shipped traces live, relative to the repository root.
const DefaultTraceDir = "bench/traces"

// NewConfig returns the defaults: every shipped trace in DefaultTraceDir and every generated
// shape, every policy, the default scenario and λ sweep, seed 1, output to bench/out.
func NewConfig() Config {
	return Config{
		Traces:    nil, // filled with the shipped traces when empty (see Complete)
		Generated: DefaultGenerated(),
		Policies:  AllPolicies(),
		Lambdas:   frontier.DefaultLambdas(),
		Scenario:  sim.DefaultScenario(),
		Seeds:     []uint64{1},
		OutDir:    "bench/out",
		Parallel:  runtime.GOMAXPROCS(0),
	}
}

// DefaultGenerated is every generated shape over one hour in 5 s bins, from 5 to 50 req/s
// before scaling (the replay rule rescales them like any trace).
func DefaultGenerated() []trace.Gen {
	var out []trace.Gen
	for _, s := range trace.Shapes {
		if s == trace.ShapeRamp {
			continue // a step spread over half an hour: nothing a step does not show
		}
		out = append(out, trace.Gen{Shape: s, Base: 5, Peak: 50, Duration: 3600, Step: 5})
	}
	return out
}

// AddFlags binds the configuration and every scenario knob to fs.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&c.Traces, "traces", c.Traces, "trace files (comma- or space-separated); default every *.csv in "+DefaultTraceDir)
	fs.StringSliceVar(&c.Policies, "policies", c.Policies, "policies to compare: "+strings.Join(AllPolicies(), ","))
	fs.StringVar(&c.ScenarioFile, "scenario", c.ScenarioFile, "scenario file (YAML/JSON, strict); flags override it")
	fs.StringVar(&c.PolicyFile, "policy", c.PolicyFile, "ScalingPolicy file for the hsds policy (default: built-in defaults)")
	fs.StringSliceVar(&c.seedArgs, "seeds", nil, "random seeds, each replays every trace (comma- or space-separated; default 1)")
	fs.StringSliceVar(&c.shapeArgs, "shapes", nil, "generated shapes replayed besides the traces, or none (default all but ramp)")
	fs.Float64SliceVar(&c.Lambdas, "lambdas", c.Lambdas, "frontier DP λ sweep: pod-seconds one expected failure is worth")
	fs.BoolVar(&c.SkipFrontier, "skip-frontier", c.SkipFrontier, "replay the policies only: no frontier schedules and no goal (c) (quick comparisons)")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "output directory for report.json, report.md and plots")
	fs.IntVar(&c.Parallel, "parallel", c.Parallel, "replays run at once")
	c.Scenario.AddFlags(fs)
}

// Complete fills what depends on the file system and the command line: the scenario file (then
// every --sim-* flag set explicitly on fs, which may be nil, is applied again over it); trace
// and seed arguments holding spaces (make bench TRACES="a.csv b.csv" SEEDS="1 2 3") split; the
// shapes named by --shapes; with no trace file, every *.csv under DefaultTraceDir. Run calls it
// when the caller has not.
func (c *Config) Complete(fs *pflag.FlagSet) error {
	c.completed = true
	if c.ScenarioFile != "" {
		if err := c.loadScenario(fs); err != nil {
			return err
		}
	}
	c.Traces = fields(c.Traces)
	if err := c.completeSeedsAndShapes(); err != nil {
		return err
	}
	if len(c.Traces) == 0 && !c.OnlyGenerated {
		shipped, err := filepath.Glob(filepath.Join(DefaultTraceDir, "*.csv"))
		if err != nil {
			return fmt.Errorf("list shipped traces: %w", err)
		}
		sort.Strings(shipped)
		c.Traces = shipped
	}
	return nil
}

// completeSeedsAndShapes parses --seeds and resolves --shapes (when given).
func (c *Config) completeSeedsAndShapes() error {
	var errs []error
	if args := fields(c.seedArgs); len(args) > 0 {
		c.Seeds = nil
		for _, a := range args {
			v, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("seed %q: %w", a, err))
				continue
			}
			c.Seeds = append(c.Seeds, v)
		}
	}
	if args := fields(c.shapeArgs); len(args) > 0 {
		c.Generated = nil
		for _, a := range args {
			if a == "none" {
				continue
			}
			i := slices.IndexFunc(DefaultGenerated(), func(g trace.Gen) bool { return string(g.Shape) == a })
			if i < 0 {
				errs = append(errs, fmt.Errorf("shape %q: want none or one of %v", a, trace.Shapes))
				continue
			}
			c.Generated = append(c.Generated, DefaultGenerated()[i])
		}
	}
	return errors.Join(errs...)
}

// fields splits every argument at spaces and commas.
func fields(args []string) []string {
	var out []string
	for _, a := range args {
		out = append(out, strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	}
	return out
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
	if len(c.Seeds) == 0 {
		errs = append(errs, errors.New("no seed"))
	}
	for _, l := range c.Lambdas {
		if !(l >= 0) {
			errs = append(errs, fmt.Errorf("frontier λ %g: must be >= 0", l))
		}
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

// Run replays every trace with every seed through every policy and every schedule of the
// frontier, writes the report files into OutDir (when set) and returns the report, in one pass:
// traces (loadTraces: read or generated, then the replay rule) -> replay plans (planReplays: per
// trace and seed, the initial replicas and the frontier's schedules, from what each seed
// measured in the simulator) -> jobs (newJobs: policy x trace x seed, and the schedules) ->
// report (buildReport: rows, frontier, distances, goals). Runs are deterministic for the seeds.
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
	traces, err := loadTraces(cfg)
	if err != nil {
		return Report{}, err
	}
	plans, measured, err := planReplays(cfg, traces)
	if err != nil {
		return Report{}, err
	}
	jobs := newJobs(plans, pols, cfg.Scenario)
	prog := newProgress(cfg.Progress, jobs)
	results, err := runJobs(ctx, jobs, cfg, prog)
	prog.finish()
	if err != nil {
		return Report{}, err
	}
	rep := buildReport(cfg, traces, measured, results)
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
				if !jobs[i].keepTimeline {
					results[i].stats.Timeline = nil // only the first seed's policies are plotted over time
				}
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
