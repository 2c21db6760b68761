// Package boundedget reads one HTTP resource with a deadline and a size bound and says why a read
// failed, in the reason words that both hsds-agent (reading HSDS) and the adapter's collector
// (reading agents) export as labels: timeout, connect, status, too_large.
package boundedget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Reasons a read failed.
const (
	Timeout  = "timeout"   // no full answer within the deadline
	Connect  = "connect"   // no HTTP answer: refused, reset, unreachable, DNS
	Status   = "status"    // an HTTP status other than 200
	TooLarge = "too_large" // the body exceeds the bound
)

// Error is a failed read and its reason.
type Error struct {
	Reason string
	URL    string
	Code   int // the HTTP status, for Reason Status
	Err    error
}

func (e *Error) Error() string {
	if e.Reason == Status {
		return fmt.Sprintf("get %s: HTTP status %d", e.URL, e.Code)
	}
	return fmt.Sprintf("get %s: %s: %v", e.URL, e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of a read error, and false for an error that is not one.
func ReasonOf(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}

// StatusOf returns the HTTP status of a Status error, 0 otherwise.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Reason == Status {
		return e.Code
	}
	return 0
}

// Request is one bounded read.
type Request struct {
	Client  *http.Client
	URL     string
	Accept  string        // sent as the Accept header when not empty
	Timeout time.Duration // bounds connect, request and the whole body
	MaxBody int64         // a longer body is a TooLarge error
}

// Into reads the body into buf (reset first). On any failure it returns an *Error; buf's
// content is then unspecified.
func (r Request) Into(ctx context.Context, buf *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	fail := func(reason string, code int, err error) error {
		return &Error{Reason: reason, URL: r.URL, Code: code, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return fail(Connect, 0, fmt.Errorf("build request: %w", err))
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return fail(transportReason(ctx, err), 0, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return fail(Status, resp.StatusCode, fmt.Errorf("HTTP status %d", resp.StatusCode))
	}
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, r.MaxBody+1)); err != nil {
		return fail(transportReason(ctx, err), 0, fmt.Errorf("read body: %w", err))
	}
	if int64(buf.Len()) > r.MaxBody {
		return fail(TooLarge, 0, fmt.Errorf("body larger than %d bytes", r.MaxBody))
	}
	return nil
}

// transportReason tells a timeout from any other transport failure.
func transportReason(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return Timeout
	}
	return Connect
}
