package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryCondition says which failures a RetryPolicy retries.
type RetryCondition int

const (
	// RetryServerErrors retries network errors and 5xx answers (except 501) on idempotent methods
	// (GET, HEAD, OPTIONS, PUT, DELETE) and, with RetryPolicy.RetryWrites, on POST and PATCH too. It
	// is the default. (429 answers are retried whatever RetryOn says; see RetryPolicy.)
	RetryServerErrors RetryCondition = iota
	// RetryAllErrors retries every failure, any status and any method, like the Prismatic
	// component's "Retry On All Errors". Client-side validation errors, token failures and a done
	// context are still final.
	RetryAllErrors
)

// DefaultThrottleRetries is how many times a 429 Too Many Requests answer is retried when
// RetryPolicy.ThrottleRetries is 0.
const DefaultThrottleRetries = 3

// DefaultThrottleDelay is the base wait before retrying a 429 that came without Retry-After, when
// RetryPolicy.Delay is 0. Dataverse always sends Retry-After with its 429s; proxies may not.
const DefaultThrottleDelay = time.Second

// RetryPolicy bounds and paces retries. The zero value retries only 429 Too Many Requests answers,
// DefaultThrottleRetries times.
//
// Throttling (429) has rules of its own, whatever the method, $batch included: Dataverse's service
// protection limits refuse a request before running it, so repeating it cannot apply a write twice.
// A 429 is retried up to ThrottleRetries times (counted apart from MaxRetries), after exactly the
// Retry-After the service sent (seconds or an HTTP date), even when that is longer than MaxDelay:
// retrying sooner only earns another 429. Without Retry-After the wait is Delay (or
// DefaultThrottleDelay) doubled on each further 429, capped by MaxDelay.
//
// Every other failure follows MaxRetries and RetryOn: the wait before retry n (1, 2, ...) is Delay,
// or Delay×2^(n-1) when Exponential, raised to the Retry-After of a 503, and capped by MaxDelay.
//
// Computed waits (those that do not come from Retry-After) are jittered: each is drawn at random
// between half its value and its value, so that clients throttled together do not retry together.
// Every wait ends early when the request's context is done, and a retry whose wait would overrun the
// context's deadline (or RawRequest.Timeout) is not attempted: the last answer is returned instead.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#how-to-re-try
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt for failures other than 429;
	// 0 means none.
	MaxRetries int
	// Delay is the base wait before a retry. Zero retries at once unless the service sends
	// Retry-After (a 429 without Retry-After then waits DefaultThrottleDelay).
	Delay time.Duration
	// Exponential doubles the wait on each further retry (429s always double).
	Exponential bool
	// MaxDelay caps any single computed wait and the Retry-After of a 503; 0 means no cap. It does
	// not shorten the Retry-After of a 429.
	MaxDelay time.Duration
	// RetryOn selects which failures other than 429 are retried.
	RetryOn RetryCondition
	// RetryWrites lets RetryServerErrors retry POST and PATCH. Off by default: a write that failed
	// with a 5xx or a dropped connection may have been applied, and retrying it could apply it twice.
	RetryWrites bool
	// ThrottleRetries is the number of retries of 429 answers: 0 means DefaultThrottleRetries, a
	// negative value none.
	ThrottleRetries int
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

// throttleRetries is the number of 429s p retries.
func (p RetryPolicy) throttleRetries() int {
	switch {
	case p.ThrottleRetries < 0:
		return 0
	case p.ThrottleRetries == 0:
		return DefaultThrottleRetries
	}
	return p.ThrottleRetries
}

// idempotent reports whether repeating method cannot change the outcome (RFC 9110, section 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// final reports whether err can never be helped by a retry: the request was invalid, no token
// could be had, or the context is done.
func final(err error) bool {
	var te *TokenError
	return errors.Is(err, ErrInvalidInput) || errors.As(err, &te) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// throttled returns the *Error of a 429 answer, or nil.
func throttled(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests {
		return apiErr
	}
	return nil
}

// shouldRetry reports whether failure n (1-based) of a kind other than 429 is one p retries.
func (p RetryPolicy) shouldRetry(method string, n int, err error) bool {
	if err == nil || n > p.MaxRetries || final(err) {
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
		return s >= 500 && s != http.StatusNotImplemented
	}
	return true // no answer: a network error
}

// backoff is Delay×2^(n-1) for retry n (1-based), or Delay when not exponential, capped by
// MaxDelay.
func (p RetryPolicy) backoff(base time.Duration, n int, exponential bool) time.Duration {
	d := base
	if exponential {
		for i := 1; i < n && d > 0; i++ {
			if d > time.Duration(1<<62) {
				break // would overflow; MaxDelay (or this huge value) applies
			}
			d *= 2
		}
	}
	if p.MaxDelay > 0 {
		d = min(d, p.MaxDelay)
	}
	return d
}

// delay returns the wait before retry n (1-based) of a failure other than 429, and whether it was
// computed (true) or set by the service's Retry-After (false).
func (p RetryPolicy) delay(n int, err error) (time.Duration, bool) {
	d := p.backoff(p.Delay, n, p.Exponential)
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusServiceUnavailable && apiErr.RetryAfter > d {
		ra := apiErr.RetryAfter
		if p.MaxDelay > 0 {
			ra = min(ra, p.MaxDelay)
		}
		return ra, false
	}
	return d, true
}

// throttleDelay returns the wait before retry n (1-based) of a 429, and whether it was computed
// (true) or set by the service's Retry-After (false).
func (p RetryPolicy) throttleDelay(n int, e *Error) (time.Duration, bool) {
	if e.RetryAfter > 0 {
		return e.RetryAfter, false
	}
	base := p.Delay
	if base <= 0 {
		base = DefaultThrottleDelay
	}
	return p.backoff(base, n, true), true
}

// equalJitter draws a wait at random between d/2 and d.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return d - half + rand.N(half+1)
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
