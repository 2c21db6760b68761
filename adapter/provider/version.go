package provider

import (
	"time"

	"k8s.io/utils/clock"
)

// DefaultMaxAge bounds how long a cached answer is served without a store change: a pod whose
// last reading ages past stale-after leaves the answers within this time.
const DefaultMaxAge = 250 * time.Millisecond

// Versioned is a source that counts its changes (store.Store.Generation).
type Versioned interface {
	Generation() uint64
}

// Version names what an answer was computed from: the source's generation and the max-age period
// (wall time divided into MaxAge slices) it was computed in. An answer is served only while both
// are unchanged, so it is never older than one period and never survives a store change.
type Version struct {
	Gen    uint64
	Period int64
}

// Versioner tells the current Version.
type Versioner struct {
	Source Versioned
	Clock  clock.PassiveClock
	MaxAge time.Duration
}

// Now returns the current version. Read it before computing an answer: the answer then reflects
// the store at that version or later, and is valid while Now returns the same version.
func (v *Versioner) Now() Version {
	return Version{Gen: v.Source.Generation(), Period: v.Clock.Now().UnixNano() / int64(v.MaxAge)}
}

// Cache results (the result label of hsds_adapter_api_body_cache_requests_total).
const (
	CacheHit    = "hit"    // served a cached answer
	CacheShared = "shared" // waited for another request's computation of the same answer
	CacheMiss   = "miss"   // computed the answer
)
