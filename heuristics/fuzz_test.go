package heuristics

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDurationJSON: the Duration parser never panics, and what it accepts round-trips.
func FuzzDurationJSON(f *testing.F) {
	for _, s := range []string{`"30s"`, `"1h2m3.5s"`, `"-5m"`, `30`, `""`, `null`, `"9999999999h"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Duration
		if err := json.Unmarshal(b, &d); err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal %s: %v", d.Duration, err)
		}
		var back Duration
		if err := json.Unmarshal(out, &back); err != nil || back != d {
			t.Fatalf("round trip %s -> %s -> %s (%v)", b, out, back.Duration, err)
		}
	})
}

// FuzzPolicy decodes a policy strictly over the defaults; a policy that validates must yield a
// recommender that keeps the snapshot's bounds on a short load sequence (starting inside them).
func FuzzPolicy(f *testing.F) {
	def, _ := json.Marshal(DefaultPolicy())
	f.Add(def)
	f.Add([]byte(`{"dwellDown":"0s","maxStepDownPods":3}`))
	f.Add([]byte(`{"fanoutShare":0.9,"podCapacity":0.001,"dwellUp":"0s"}`))
	f.Add([]byte(`{"targetUtilization":0.5,"scaleUpUtilization":0.51,"scaleDownUtilization":0.49}`))
	f.Add([]byte(`{"utilizationSustain":"20s","utilizationWindow":"30s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := DefaultPolicy()
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil || p.Validate() != nil {
			return
		}
		h, err := NewHSDS(p)
		if err != nil {
			t.Fatalf("valid policy rejected: %v", err)
		}
		spec := int32(1)
		var env envelope
		loads := []podLoad{idle, calm, hot, overloaded, {inFlight: 100, limit: 100, rate: 80, rej: ByCause{Overload: 40}}}
		for i := 0; i < 40; i++ {
			now := at(float64(i) * 15)
			snap := env.fill(uniform(int(spec), loads[(i/4)%len(loads)], now))
			d := h.Recommend(snap)
			if d.Valid && (d.Replicas < snap.MinReplicas || d.Replicas > snap.MaxReplicas) {
				t.Fatalf("%d outside [%d, %d]: %+v", d.Replicas, snap.MinReplicas, snap.MaxReplicas, d)
			}
			if d.Valid && d.Replicas != spec {
				env.applied(d.Replicas, now)
				spec = d.Replicas
			}
		}
	})
}

// FuzzLearned decodes saved learned state (the ConfigMap's value, the status's learned): what
// validates restores into a fresh policy without error, comes back out valid, and the restored
// policy keeps the snapshot's bounds.
func FuzzLearned(f *testing.F) {
	f.Add([]byte(`{"podCapacity":18.5,"at":"2026-12-04T10:00:00Z"}`))
	f.Add([]byte(`{"throughput":[{"pods":2,"served":34,"samples":5,"first":"2026-12-04T09:59:00Z","last":"2026-12-04T10:00:00Z"},` +
		`{"pods":4,"served":35.6,"samples":3,"first":"2026-12-04T09:59:40Z","last":"2026-12-04T10:00:00Z"}],"at":"2026-12-04T10:00:00Z"}`))
	f.Add([]byte(`{"throughput":[{"pods":-1,"served":1e309}],"at":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Learned
		if err := json.Unmarshal(b, &l); err != nil || l.Validate() != nil {
			return
		}
		p := testPolicy()
		p.PodCapacity = 0
		h := mustHSDS(p)
		if err := h.Restore(l); err != nil {
			t.Fatalf("valid state refused: %v", err)
		}
		if back, ok := h.Learned(); ok {
			if err := back.Validate(); err != nil {
				t.Fatalf("restored %s, Learned() = %+v: %v", b, back, err)
			}
		}
		var env envelope
		for i := 0; i < 8; i++ {
			snap := env.fill(uniform(2, overloaded, at(float64(i)*15)))
			if d := h.Recommend(snap); d.Valid && (d.Replicas < snap.MinReplicas || d.Replicas > snap.MaxReplicas) {
				t.Fatalf("%d outside [%d, %d] after restoring %s", d.Replicas, snap.MinReplicas, snap.MaxReplicas, b)
			}
		}
	})
}
