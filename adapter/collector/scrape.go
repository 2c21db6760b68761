package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/boundedget"
)

// Scrape-error labels (the reason label of hsds_adapter_scrape_errors_total; also the failure
// the store keeps for the pod).
// The transport ones are the shared bounded read's (internal/boundedget), which hsds-agent
// exports under the same words.
const (
	ScrapeErrorTimeout   = boundedget.Timeout  // no full answer within the scrape timeout: possibly hot
	ScrapeErrorConnect   = boundedget.Connect  // refused, reset, unreachable
	ScrapeErrorStatus    = boundedget.Status   // a status other than 200
	ScrapeErrorTooLarge  = boundedget.TooLarge // body over the size limit
	ScrapeErrorParse     = "parse"             // not a text exposition
	ScrapeErrorInvalid   = "invalid"           // NaN, Inf, negative, or a required metric missing
	ScrapeErrorAgentDown = "agent_down"        // hsds_agent_up is 0: the agent could not read HSDS
)

// ErrAgentDown is a scrape whose agent could not read HSDS; transport failures are
// *boundedget.Error, parse failures agentmetrics' errors.
var ErrAgentDown = errors.New("agent reports hsds_agent_up 0")

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
	defer func() {
		if w.body.Cap() > maxKeptBody {
			w.body = bytes.Buffer{}
		}
	}()
	req := boundedget.Request{Client: s.Client, URL: url, Accept: acceptHeader, Timeout: s.Timeout, MaxBody: s.MaxBodyBytes}
	if err := req.Into(ctx, &w.body); err != nil {
		return agentmetrics.Reading{}, err
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
	if reason, ok := boundedget.ReasonOf(err); ok {
		return reason
	}
	switch {
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
