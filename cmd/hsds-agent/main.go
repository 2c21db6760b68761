package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
)

// binaryName is this command's name in --version and in its build-info metric.
const binaryName = "hsds-agent"

func main() {
	opts := agent.NewOptions()
	fs, showVersion := newFlagSet(opts, pflag.ExitOnError)
	_ = fs.Parse(os.Args[1:]) // ExitOnError: Parse exits on error
	if *showVersion {
		fmt.Println(version.Get().String(binaryName))
		return
	}
	defer klog.Flush()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, *opts); err != nil {
		klog.ErrorS(err, "hsds-agent failed")
		klog.Flush()
		os.Exit(1)
	}
}

// newFlagSet holds the agent's options, the klog flags and --version.
func newFlagSet(opts *agent.Options, onError pflag.ErrorHandling) (*pflag.FlagSet, *bool) {
	fs := pflag.NewFlagSet(binaryName, onError)
	opts.AddFlags(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	kfs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(kfs)
	fs.AddGoFlagSet(kfs)
	return fs, showVersion
}

// run builds the agent, serves it and polls until ctx ends, then shuts the servers down.
func run(ctx context.Context, opts agent.Options) error {
	a, err := agent.New(opts, clock.RealClock{})
	if err != nil {
		return err
	}
	servers := []*http.Server{{Addr: opts.Listen, Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	if a.Proxy != nil {
		servers = append(servers, &http.Server{Addr: opts.ProxyListen, Handler: a.Proxy, ReadHeaderTimeout: 30 * time.Second})
	}
	klog.InfoS("Starting hsds-agent", "source", opts.Source, "snURL", opts.SNURL, "dnURL", opts.DNURL,
		"listen", opts.Listen, "proxyListen", opts.ProxyListen)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			if err := s.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				cancel()
			}
		})
	}
	wg.Go(func() { a.Run(ctx) })
	<-ctx.Done()
	klog.InfoS("Stopping hsds-agent")
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			klog.ErrorS(err, "Server shutdown", "addr", s.Addr)
		}
	}
	wg.Wait()
	close(errc)
	return errors.Join(collect(errc)...)
}

func collect(errc <-chan error) []error {
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errs
}
