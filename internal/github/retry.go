package github

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Retry policy for the GitHub API: a few retries, never a long wait. A wait longer than maxWait
// (a primary rate limit that resets in half an hour) is not worth holding the job for: the
// request fails and the warning says when the limit resets.
const (
	maxRetries = 3
	maxWait    = 60 * time.Second
	// secondaryWait is GitHub's advice for a secondary rate limit without Retry-After.
	secondaryWait = 60 * time.Second
	// retryBudget bounds all the waiting of one Publish, whatever the number of requests.
	retryBudget = 2 * time.Minute
	// requestTimeout bounds one request, from dial to the end of the body: a GitHub that accepts
	// the connection and never answers must not hold the job.
	requestTimeout = 20 * time.Second
)

// NewHTTPClient is the client for the GitHub API: every phase of a request has a deadline.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = requestTimeout
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// retryTransport retries rate-limited (429, 403 with x-ratelimit-remaining 0 or Retry-After, or a
// secondary-limit message) and 5xx responses below go-github, which in v60 classifies only 403s
// and never waits. go-github then sees only the final response.
//
// A POST is retried only when GitHub refused it (a rate limit): after a 5xx or a lost answer it
// may have been applied, and sending it again could post a second comment. The caller decides
// (comment re-lists the comments first). Each attempt has its own timeout, and all the waiting
// shares one budget and never outlasts the context's deadline.
type retryTransport struct {
	base    http.RoundTripper
	sleep   func(context.Context, time.Duration) error
	now     func() time.Time
	timeout time.Duration // per attempt; 0 = requestTimeout

	mu     sync.Mutex
	waited time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(req.Context())
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.attempt(r)
		if err != nil {
			return nil, err
		}
		wait, retry := t.backoff(resp, attempt)
		if retry && req.Method == http.MethodPost && !refused(resp) {
			retry = false
		}
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if !retry || attempt == maxRetries || !replayable || !t.spend(req.Context(), wait) {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// attempt sends one request under its own timeout, which lasts until the body is closed.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	d := t.timeout
	if d <= 0 {
		d = requestTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), d)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// spend takes wait from the budget, unless it would exceed it or the context's deadline.
func (t *retryTransport) spend(ctx context.Context, wait time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waited+wait > retryBudget {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false
	}
	t.waited += wait
	return true
}

// refused reports a response that says the request was not processed: a rate limit.
func refused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden
}

// backoff says whether resp is worth retrying and after how long.
func (t *retryTransport) backoff(resp *http.Response, attempt int) (time.Duration, bool) {
	h := resp.Header
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusForbidden:
		wait, limited := time.Duration(0), true
		switch {
		case h.Get("Retry-After") != "":
			wait = t.retryAfter(h.Get("Retry-After"))
		case h.Get("X-RateLimit-Remaining") == "0" && h.Get("X-RateLimit-Reset") != "":
			wait = t.untilReset(h.Get("X-RateLimit-Reset"))
		case code == http.StatusTooManyRequests:
			wait = secondaryWait
		case mentionsSecondaryLimit(resp):
			wait = secondaryWait
		default:
			limited = false // a plain 403: a permission problem, retrying will not help
		}
		return wait, limited && wait <= maxWait
	case code == http.StatusInternalServerError, code == http.StatusBadGateway,
		code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		if ra := h.Get("Retry-After"); ra != "" {
			wait := t.retryAfter(ra)
			return wait, wait <= maxWait
		}
		return time.Second << attempt, true
	}
	return 0, false
}

func (t *retryTransport) retryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return max(0, time.Duration(secs)*time.Second)
	}
	if when, err := http.ParseTime(v); err == nil {
		return max(0, when.Sub(t.now()))
	}
	return secondaryWait
}

func (t *retryTransport) untilReset(v string) time.Duration {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return secondaryWait
	}
	// One second more, so the retry lands after the reset, not on it.
	return max(0, time.Unix(secs, 0).Sub(t.now())+time.Second)
}

// mentionsSecondaryLimit peeks at a 403 body for GitHub's secondary-rate-limit message, and puts
// the body back for go-github to read.
func mentionsSecondaryLimit(resp *http.Response) bool {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	s := strings.ToLower(string(body))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
