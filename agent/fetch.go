package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Values of schema.LabelReason.
const (
	ReasonTimeout  = "timeout"   // the read did not finish within --timeout
	ReasonConnect  = "connect"   // no HTTP answer: connection refused, reset, DNS, ...
	ReasonStatus   = "status"    // an HTTP status other than 200
	ReasonParse    = "parse"     // the body is not valid JSON / Prometheus text
	ReasonInvalid  = "invalid"   // well-formed but unusable: NaN, Inf, negative, missing fields
	ReasonTooLarge = "too_large" // the body exceeds --max-body
)

// ErrorReasons returns every value of schema.LabelReason in a fixed order.
func ErrorReasons() []string {
	return []string{ReasonTimeout, ReasonConnect, ReasonStatus, ReasonParse, ReasonInvalid, ReasonTooLarge}
}

// ScrapeError is a failed read of HSDS with the reason it is counted under.
type ScrapeError struct {
	Reason string
	URL    string
	Err    error
}

func (e *ScrapeError) Error() string {
	return fmt.Sprintf("read %s: %s: %v", e.URL, e.Reason, e.Err)
}

func (e *ScrapeError) Unwrap() error { return e.Err }

// ReasonOf returns the reason an error is counted under; errors that are not a *ScrapeError count
// as connect errors.
func ReasonOf(err error) string {
	var se *ScrapeError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ReasonConnect
}

// errStatus is returned for an HTTP status other than 200.
type errStatus struct{ code int }

func (e errStatus) Error() string { return fmt.Sprintf("HTTP status %d", e.code) }

// isStatus reports whether err is a ScrapeError for HTTP status code.
func isStatus(err error, code int) bool {
	var es errStatus
	return errors.As(err, &es) && es.code == code
}

// Fetcher reads HSDS endpoints with a per-request timeout and a bounded body.
type Fetcher struct {
	Client  *http.Client
	Timeout time.Duration
	MaxBody int64
}

// NewFetcher returns a Fetcher with its own transport (no proxy from the environment: the agent
// only ever talks to its own pod over loopback). It keeps no connection open between reads: every
// open connection to an HSDS SN is one of its tasks and counts against max_task_count
// (docs/hsds.md), and a loopback connect per read costs far less than a task slot held for good.
func NewFetcher(timeout time.Duration, maxBody int64) *Fetcher {
	tr := &http.Transport{
		Proxy:             nil,
		DialContext:       (&net.Dialer{Timeout: timeout}).DialContext,
		DisableKeepAlives: true,
	}
	return &Fetcher{Client: &http.Client{Transport: tr}, Timeout: timeout, MaxBody: maxBody}
}

// Get reads url and returns its body, or a *ScrapeError. accept, when not empty, is sent as the
// Accept header.
func (f *Fetcher) Get(ctx context.Context, url, accept string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	fail := func(reason string, err error) ([]byte, error) {
		return nil, &ScrapeError{Reason: reason, URL: url, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(ReasonConnect, fmt.Errorf("build request: %w", err))
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return fail(transportReason(ctx, err), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fail(ReasonStatus, errStatus{code: resp.StatusCode})
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBody+1))
	if err != nil {
		return fail(transportReason(ctx, err), fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > f.MaxBody {
		return fail(ReasonTooLarge, fmt.Errorf("body larger than %d bytes", f.MaxBody))
	}
	return body, nil
}

// transportReason tells a timeout from any other transport failure.
func transportReason(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return ReasonTimeout
	}
	return ReasonConnect
}
