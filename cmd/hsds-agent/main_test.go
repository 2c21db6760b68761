package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
)

func TestRunStopsOnCancel(t *testing.T) {
	o := agent.NewOptions()
	o.Source = "proxy"
	o.Listen, o.ProxyListen = "127.0.0.1:0", "127.0.0.1:0"
	o.SNURL, o.DNURL = "http://127.0.0.1:1", "" // nothing listens: the agent must stay up anyway
	o.Timeout = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, *o) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v, want nil after a graceful stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run() did not stop")
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	o := agent.NewOptions()
	o.Source, o.Timeout = "nope", 0
	err := run(context.Background(), *o)
	if err == nil || !strings.Contains(err.Error(), "--source") || !strings.Contains(err.Error(), "--timeout") {
		t.Errorf("run() = %v, want both errors", err)
	}
}

func TestVersionFlag(t *testing.T) {
	fs, showVersion := newFlagSet(agent.NewOptions(), pflag.ContinueOnError)
	if err := fs.Parse([]string{"--version"}); err != nil || !*showVersion {
		t.Errorf("--version: parsed %v, err %v", *showVersion, err)
	}
	fs, showVersion = newFlagSet(agent.NewOptions(), pflag.ContinueOnError)
	if err := fs.Parse([]string{"--source=info", "-v=2"}); err != nil || *showVersion {
		t.Errorf("without --version: parsed %v, err %v", *showVersion, err)
	}
}
