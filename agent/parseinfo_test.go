package agent

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       InfoSample
		wantReason string
	}{
		{
			name: "fixture",
			body: string(readFixture(t, "info_sn.json")),
			want: InfoSample{NodeType: "sn", State: "READY", NodeCount: 4, StartTime: 1700000000,
				Requests: 126, NumTasks: 42, Warnings: 7},
		},
		{
			name: "waiting, no start_time",
			body: `{"node":{"state":"WAITING","node_count":0},"req_count":{"GET":0,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`,
			want: InfoSample{State: "WAITING"},
		},
		{name: "empty", body: ``, wantReason: ReadErrorParse},
		{name: "garbage", body: `<html>oops</html>`, wantReason: ReadErrorParse},
		{name: "truncated", body: `{"node":{"state":"READY","node_co`, wantReason: ReadErrorParse},
		{name: "NaN token", body: `{"node":{"state":"READY","node_count":NaN}}`, wantReason: ReadErrorParse},
		{name: "not an object", body: `[1,2]`, wantReason: ReadErrorParse},
		{name: "missing node", body: `{"req_count":{}}`, wantReason: ReadErrorInvalid},
		{
			name:       "unknown state",
			body:       `{"node":{"state":"SCALING","node_count":1},"req_count":{"GET":0,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`,
			wantReason: ReadErrorInvalid,
		},
		{
			name:       "negative count",
			body:       `{"node":{"state":"READY","node_count":1},"req_count":{"GET":-1,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`,
			wantReason: ReadErrorInvalid,
		},
		{
			name:       "missing WARN",
			body:       `{"node":{"state":"READY","node_count":1},"req_count":{"GET":0,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{}}`,
			wantReason: ReadErrorInvalid,
		},
		{
			name:       "overflowing sum",
			body:       `{"node":{"state":"READY","node_count":1},"req_count":{"GET":1e308,"POST":1e308,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`,
			wantReason: ReadErrorInvalid,
		},
		{
			name:       "string where number",
			body:       `{"node":{"state":"READY","node_count":"4"}}`,
			wantReason: ReadErrorParse,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseInfo([]byte(tc.body))
			if tc.wantReason != "" {
				var se *ScrapeError
				if !errors.As(err, &se) || se.Reason != tc.wantReason {
					t.Fatalf("parseInfo() error = %v, want reason %s", err, tc.wantReason)
				}
				if diff := cmp.Diff(InfoSample{}, got); diff != "" {
					t.Errorf("partial sample on error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseInfo() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseInfo() (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseInfo: no panic; a sample without error holds only finite, non-negative numbers and a
// known state.
func FuzzParseInfo(f *testing.F) {
	f.Add(readFixture(f, "info_sn.json"))
	f.Add(readFixture(f, "info_dn.json"))
	f.Add([]byte(`{"node":{"state":"WAITING","node_count":0},"req_count":{"GET":0,"POST":0,"PUT":0,"DELETE":0,"num_tasks":0},"log_stats":{"WARN":0}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseInfo(body)
		if err != nil {
			if ReadErrorOf(err) != ReadErrorParse && ReadErrorOf(err) != ReadErrorInvalid {
				t.Fatalf("reason %q", ReadErrorOf(err))
			}
			return
		}
		for _, v := range []float64{s.NodeCount, s.StartTime, s.Requests, s.NumTasks, s.Warnings} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("bad value %g in %+v", v, s)
			}
		}
		if s.State == "" {
			t.Fatalf("empty state in %+v", s)
		}
	})
}
