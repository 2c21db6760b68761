package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
)

// Scrape-error labels (the reason label of hsds_adapter_scrape_errors_total; also the failure
// the store keeps for the pod).
const (
	ScrapeErrorTimeout   = "timeout"    // no full answer within the scrape timeout: possibly hot
	ScrapeErrorConnect   = "connect"    // refused, reset, unreachable
	ScrapeErrorStatus    = "status"     // a status other than 200
	ScrapeErrorTooLarge  = "too_large"  // body over the size limit
	ScrapeErrorParse     = "parse"      // not a text exposition
	ScrapeErrorInvalid   = "invalid"    // NaN, Inf, negative, or a required metric missing
	ScrapeErrorAgentDown = "agent_down" // hsds_agent_up is 0: the agent could not read HSDS
)

// Errors of a scrape, besides those of agentmetrics.
var (
	ErrStatus    = errors.New("unexpected status")
	ErrTooLarge  = errors.New("body too large")
	ErrAgentDown = errors.New("agent reports hsds_agent_up 0")
)

// acceptHeader asks for the text format the parser reads.
const acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// NewHTTPClient returns a client tuned for scraping many agents: keep-alive connections reused
// round after round (idle ones kept longer than any sane interval), no proxy, no compression
// (expositions are small and gzip costs CPU on both ends).
func NewHTTPClient(dialTimeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no global cap: one idle connection per agent
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
		// Per-connection buffers, kept by every idle connection (one per agent): a GET of a few
		// hundred bytes; a response head of about 150 bytes (bodies are read past the buffer into
		// the worker's own). The 4 KiB defaults times thousands of connections add up.
		WriteBufferSize: 512,
		ReadBufferSize:  1024,
	}
	return &http.Client{Transport: tr}
}

// Scraper fetches and parses one agent's exposition.
type Scraper struct {
	Client *http.Client
	// Timeout bounds one whole scrape: connect, request, and reading the body.
	Timeout time.Duration
	// MaxBodyBytes bounds how much of a body is read.
	MaxBodyBytes int64
}

// Worker is one scraping goroutine's reusable state: a parser and a body buffer, so that a
// scrape allocates no body.
type Worker struct {
	parser *agentmetrics.Parser
	body   bytes.Buffer
}

// NewWorker returns the state of one scraping goroutine.
func NewWorker() *Worker { return &Worker{parser: agentmetrics.NewParser()} }

// maxKeptBody is the largest body buffer a worker keeps between scrapes; a rare larger body
// (up to MaxBodyBytes) is read into a buffer that is then dropped.
const maxKeptBody = 64 << 10

// Scrape fetches url and parses it with w's parser and buffer (one Worker per goroutine).
func (s *Scraper) Scrape(ctx context.Context, url string, w *Worker) (agentmetrics.Reading, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return agentmetrics.Reading{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", acceptHeader)
	resp, err := s.Client.Do(req)
	if err != nil {
		return agentmetrics.Reading{}, fmt.Errorf("get %s: %w", url, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return agentmetrics.Reading{}, fmt.Errorf("get %s: %w %d", url, ErrStatus, resp.StatusCode)
	}
	defer func() {
		if w.body.Cap() > maxKeptBody {
			w.body = bytes.Buffer{}
		}
	}()
	w.body.Reset()
	if _, err := w.body.ReadFrom(io.LimitReader(resp.Body, s.MaxBodyBytes+1)); err != nil {
		return agentmetrics.Reading{}, fmt.Errorf("read %s: %w", url, err)
	}
	if int64(w.body.Len()) > s.MaxBodyBytes {
		return agentmetrics.Reading{}, fmt.Errorf("read %s: %w (limit %d bytes)", url, ErrTooLarge, s.MaxBodyBytes)
	}
	rd, err := w.parser.Parse(bytes.NewReader(w.body.Bytes()))
	if err != nil {
		return agentmetrics.Reading{}, fmt.Errorf("%s: %w", url, err)
	}
	if !rd.Up {
		return agentmetrics.Reading{}, fmt.Errorf("%s: %w", url, ErrAgentDown)
	}
	return rd, nil
}

// ScrapeErrorLabel classifies a scrape error into its label (the reason label of
// hsds_adapter_scrape_errors_total and the failure the store keeps).
func ScrapeErrorLabel(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ScrapeErrorTimeout
	case errors.Is(err, ErrStatus):
		return ScrapeErrorStatus
	case errors.Is(err, ErrTooLarge):
		return ScrapeErrorTooLarge
	case errors.Is(err, agentmetrics.ErrParse):
		return ScrapeErrorParse
	case errors.Is(err, agentmetrics.ErrInvalid):
		return ScrapeErrorInvalid
	case errors.Is(err, ErrAgentDown):
		return ScrapeErrorAgentDown
	default:
		return ScrapeErrorConnect
	}
}
