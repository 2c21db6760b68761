package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestOptionsDefaultsValid(t *testing.T) {
	o := NewOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	want := Options{Source: "metrics", SNURL: "http://127.0.0.1:5101", DNURL: "http://127.0.0.1:6101",
		Listen: ":9090", ProxyListen: ":5190", PollInterval: 250 * time.Millisecond, Timeout: time.Second,
		MaxBody: 4 << 20, MaxTaskCount: 100, InFlightMaxAge: time.Second, GateHold: time.Second, ProxyIdleConns: -1, ProxyIdleTime: time.Second}
	if diff := cmp.Diff(want, *o); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestOptionsFlags(t *testing.T) {
	o := NewOptions()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{"--source=proxy", "--sn-url=http://127.0.0.1:1", "--dn-url=", "--retry-after=3s",
		"--max-task-count=20", "--proxy-listen=:7000"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "proxy" || o.DNURL != "" || o.RetryAfter != 3*time.Second || o.MaxTaskCount != 20 || o.ProxyListen != ":7000" {
		t.Errorf("flags not applied: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestOptionsValidateReturnsAllErrors(t *testing.T) {
	o := NewOptions()
	o.Source = "carrier-pigeon"
	o.SNURL = "127.0.0.1:5101"
	o.DNURL = "ftp://x"
	o.PollInterval = 0
	o.Timeout = -time.Second
	o.MaxBody = 0
	o.MaxTaskCount = 0
	o.RetryAfter = -1
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, want := range []string{"--source", "--sn-url", "--dn-url", "--poll-interval", "--timeout",
		"--max-body", "--max-task-count", "--retry-after"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
	o = NewOptions()
	o.Source, o.ProxyListen = "proxy", o.Listen
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--proxy-listen") {
		t.Errorf("same listen and proxy-listen: %v", err)
	}
	if _, err := New(*o, clocktesting.NewFakeClock(t0)); err == nil {
		t.Errorf("New accepted invalid options")
	}
}

func TestNewBuildsEachSource(t *testing.T) {
	for _, src := range []string{"metrics", "info", "proxy"} {
		o := NewOptions()
		o.Source = src
		a, err := New(*o, clocktesting.NewFakeClock(t0))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if (a.Proxy != nil) != (src == "proxy") {
			t.Errorf("%s: proxy handler present = %v", src, a.Proxy != nil)
		}
		if a.Handler() == nil {
			t.Errorf("%s: no handler", src)
		}
	}
}
