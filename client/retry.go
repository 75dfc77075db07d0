package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// RetryCondition says which failures a RetryPolicy retries.
type RetryCondition int

const (
	// RetryServerErrors retries network errors, 429 Too Many Requests and 5xx answers (except 501), on
	// idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) and, with RetryPolicy.RetryWrites, on POST
	// and PATCH too. It is the default.
	RetryServerErrors RetryCondition = iota
	// RetryAllErrors retries every failure, any status and any method, like the Prismatic component's
	// "Retry On All Errors". Client-side validation errors, token failures and a done context are still final.
	RetryAllErrors
)

// RetryPolicy bounds and paces retries. The zero value retries nothing.
//
// The wait before retry n (1, 2, ...) is Delay, or Delay×2^(n-1) when Exponential, raised to the
// Retry-After the service sent with a 429 or 503 (seconds or an HTTP date), and capped by MaxDelay.
// Every wait ends early when the request's context is done, and a retry whose wait would overrun the
// context's deadline (or RawRequest.Timeout) is not attempted: the last answer is returned instead.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#how-to-re-try
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0 means none.
	MaxRetries int
	// Delay is the base wait before a retry. Zero retries at once unless the service sends Retry-After.
	Delay time.Duration
	// Exponential doubles the wait on each further retry.
	Exponential bool
	// MaxDelay caps any single wait, Retry-After included; 0 means no cap.
	MaxDelay time.Duration
	// RetryOn selects which failures are retried.
	RetryOn RetryCondition
	// RetryWrites lets RetryServerErrors retry POST and PATCH. Off by default: a write that failed
	// with a 5xx or a dropped connection may have been applied, and retrying it could apply it twice.
	RetryWrites bool
}

func (p RetryPolicy) validate() error {
	if p.MaxRetries < 0 || p.Delay < 0 || p.MaxDelay < 0 {
		return fmt.Errorf("client: retry policy: negative count or delay: %w", ErrInvalidInput)
	}
	if p.RetryOn != RetryServerErrors && p.RetryOn != RetryAllErrors {
		return fmt.Errorf("client: retry policy: unknown RetryOn %d: %w", p.RetryOn, ErrInvalidInput)
	}
	return nil
}

// idempotent reports whether repeating method cannot change the outcome (RFC 9110, section 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// shouldRetry reports whether attempt (1-based) failed in a way p retries.
func (p RetryPolicy) shouldRetry(method string, attempt int, err error) bool {
	if err == nil || attempt > p.MaxRetries {
		return false
	}
	var te *TokenError
	if errors.Is(err, ErrInvalidInput) || errors.As(err, &te) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if p.RetryOn == RetryAllErrors {
		return true
	}
	if !idempotent(method) && !p.RetryWrites {
		return false
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		s := apiErr.StatusCode
		return s == http.StatusTooManyRequests || (s >= 500 && s != http.StatusNotImplemented)
	}
	return true // no answer: a network error
}

// delay returns the wait before retry n (1-based) after err.
func (p RetryPolicy) delay(n int, err error) time.Duration {
	d := p.Delay
	if p.Exponential {
		for i := 1; i < n && d > 0; i++ {
			if d > time.Duration(1<<62) {
				break // would overflow; MaxDelay (or this huge value) applies
			}
			d *= 2
		}
	}
	var apiErr *Error
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable) {
		d = max(d, apiErr.RetryAfter)
	}
	if p.MaxDelay > 0 {
		d = min(d, p.MaxDelay)
	}
	return d
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
