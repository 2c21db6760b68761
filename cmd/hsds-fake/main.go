package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		klog.ErrorS(err, "hsds-fake failed")
		klog.Flush()
		os.Exit(1)
	}
}

// run parses flags, starts the pod and blocks until SIGINT/SIGTERM.
func run(args []string) error {
	opts := NewOptions()
	fs := pflag.NewFlagSet("hsds-fake", pflag.ContinueOnError)
	opts.AddFlags(fs)
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlagSet(klogFlags)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parse flags: %w", err)
	}
	opts.Complete(fs)
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid flags: %w", err)
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	pod, err := fakehsds.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	snURL, dnURL, err := pod.ListenAndServe(ctx, opts.SNListen, opts.DNListen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	klog.InfoS("Fake HSDS pod serving", "sn", snURL, "dn", dnURL, "version", cfg.Version,
		"metrics", cfg.Metrics, "maxTaskCount", cfg.MaxTaskCount, "dnCount", cfg.DNCount,
		"state", cfg.InitialState, "serviceTime", opts.ServiceTime, "gateJamChance", cfg.GateJamChance)
	<-ctx.Done()
	klog.InfoS("Fake HSDS pod stopping")
	pod.Wait()
	klog.InfoS("Fake HSDS pod stopped")
	klog.Flush()
	return nil
}
