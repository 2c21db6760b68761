package adapter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mut     func(o *adapter.Options)
		wantErr []string
	}{
		{name: "defaults", mut: func(*adapter.Options) {}},
		{name: "every error at once", mut: func(o *adapter.Options) {
			o.LabelSelector = "app in ("
			o.AgentPort = 0
			o.Interval = 5 * time.Second
			o.Workers = 0
			o.PrometheusURL = "not a url"
		}, wantErr: []string{"--hsds-selector", "--agent-port", "--scrape-interval", "--scrape-workers", "--prometheus-url"}},
		{name: "timeout must be below interval", mut: func(o *adapter.Options) { o.ScrapeTimeout = o.Interval },
			wantErr: []string{"--scrape-timeout"}},
		{name: "windows", mut: func(o *adapter.Options) { o.Window, o.ShortWindow = 5*time.Second, 10*time.Second },
			wantErr: []string{"--rate-window"}},
		{name: "api cache max-age", mut: func(o *adapter.Options) { o.APICacheMaxAge = 0 },
			wantErr: []string{"--api-cache-max-age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := adapter.NewOptions()
			tt.mut(o)
			err := o.Validate()
			var got []string
			for _, w := range tt.wantErr {
				if err != nil && strings.Contains(err.Error(), w) {
					got = append(got, w)
				}
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("errors mentioned (-want +got):\n%s\nerr: %v", diff, err)
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestServeFlags(t *testing.T) {
	o := adapter.NewServeOptions()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{"--hsds-namespaces=a,b", "--scrape-interval=2s", "--rate-window=1m", "--secure-port=0", "--lister-kubeconfig=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, o.Adapter.Namespaces); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if o.Adapter.Interval != 2*time.Second || o.Adapter.Window != time.Minute || o.Base.RemoteKubeConfigFile != "/x" {
		t.Errorf("flags not applied: %+v, kubeconfig %q", o.Adapter, o.Base.RemoteKubeConfigFile)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	o.Adapter.Workers = -1
	if err := o.Validate(); err == nil || errors.Unwrap(err) == nil && !strings.Contains(err.Error(), "workers") {
		t.Errorf("Validate() = %v, want the workers error", err)
	}
}
