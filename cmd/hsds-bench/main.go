package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hsds-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := bench.NewConfig()
	cfg.Progress = os.Stderr
	fs := pflag.NewFlagSet("hsds-bench", pflag.ContinueOnError)
	cfg.AddFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	gofs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(gofs)
	fs.AddGoFlagSet(gofs)
	// The scaler logs every decision at info level; on the terminal only errors interleave with
	// the progress bar.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if err := cfg.Complete(fs); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid flags:\n%w", err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s/report.json, report.md and %d plots\n", cfg.OutDir, len(rep.Traces))
	return nil
}
