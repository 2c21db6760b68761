package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/boundedget"
)

// Values of schema.LabelReason. The transport ones are the shared bounded read's
// (internal/boundedget), which the adapter's collector exports under the same words.
const (
	ReadErrorTimeout  = boundedget.Timeout  // the read did not finish within --timeout
	ReadErrorConnect  = boundedget.Connect  // no HTTP answer: connection refused, reset, DNS, ...
	ReadErrorStatus   = boundedget.Status   // an HTTP status other than 200
	ReadErrorParse    = "parse"             // the body is not valid JSON / Prometheus text
	ReadErrorInvalid  = "invalid"           // well-formed but unusable: NaN, Inf, negative, missing fields
	ReadErrorTooLarge = boundedget.TooLarge // the body exceeds --max-body
)

// ReadErrorReasons returns every value of schema.LabelReason in a fixed order.
func ReadErrorReasons() []string {
	return []string{ReadErrorTimeout, ReadErrorConnect, ReadErrorStatus, ReadErrorParse, ReadErrorInvalid, ReadErrorTooLarge}
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

// ReadErrorOf returns the read-error label an error is counted under; errors that are not a
// *ScrapeError count as connect errors.
func ReadErrorOf(err error) string {
	var se *ScrapeError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ReadErrorConnect
}

// isStatus reports whether err is a failed read that got HTTP status code.
func isStatus(err error, code int) bool { return boundedget.StatusOf(err) == code }

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
	var buf bytes.Buffer
	err := boundedget.Request{Client: f.Client, URL: url, Accept: accept, Timeout: f.Timeout, MaxBody: f.MaxBody}.Into(ctx, &buf)
	if err != nil {
		reason, _ := boundedget.ReasonOf(err)
		return nil, &ScrapeError{Reason: reason, URL: url, Err: err}
	}
	return buf.Bytes(), nil
}
