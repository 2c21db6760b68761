package realhsds

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Load is a bounded client load: Requests domain GETs (no retries: every status is what the client
// saw) from Clients concurrent clients; or, with Rate > 0, Rate requests per second for Duration;
// or, with Requests and Rate 0, as many as the clients manage one after another for Duration.
type Load struct {
	URL      string // full request URL, e.g. sn + "/?domain=" + Domain
	Clients  int
	Requests int
	// Rate and Duration make an open-loop load instead (Clients bounds the concurrency).
	Rate     float64
	Duration time.Duration
	// KeepAlive reuses each client's connection (h5pyd's requests.Session does); otherwise every
	// request opens a new one.
	KeepAlive bool
}

// Outcome is what the clients saw.
type Outcome struct {
	Codes  map[int]int // by HTTP status; 0 = no answer (connection error)
	Median map[int]time.Duration
}

// Total is the number of requests sent.
func (o Outcome) Total() int {
	n := 0
	for _, v := range o.Codes {
		n += v
	}
	return n
}

// Run sends the load and returns what the clients saw.
func Run(ctx context.Context, l Load) Outcome {
	clients := max(l.Clients, 1)
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		if l.Rate > 0 {
			tick := time.NewTicker(time.Duration(float64(time.Second) / l.Rate))
			defer tick.Stop()
			end := time.After(l.Duration)
			for {
				select {
				case <-ctx.Done():
					return
				case <-end:
					return
				case <-tick.C:
					select {
					case jobs <- struct{}{}:
					default: // every client busy: the load is open-loop, drop rather than queue
					}
				}
			}
		}
		if l.Requests == 0 { // closed loop for Duration
			end := time.After(l.Duration)
			for {
				select {
				case jobs <- struct{}{}:
				case <-end:
					return
				case <-ctx.Done():
					return
				}
			}
		}
		for range l.Requests {
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	codes := map[int]int{}
	lat := map[int][]time.Duration{}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: !l.KeepAlive}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			for range jobs {
				start := time.Now()
				code := get(ctx, cl, l.URL)
				d := time.Since(start)
				mu.Lock()
				codes[code]++
				lat[code] = append(lat[code], d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	med := map[int]time.Duration{}
	for c, ds := range lat {
		med[c] = Median(ds)
	}
	return Outcome{Codes: maps.Clone(codes), Median: med}
}

func get(ctx context.Context, cl *http.Client, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Median is the middle value of ds (the upper one of an even count), 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
