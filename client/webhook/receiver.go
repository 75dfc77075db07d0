package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// DefaultMaxBody is the largest request body a Receiver reads unless WithMaxBodyBytes says
// otherwise. Dataverse trims execution contexts above 256 KB (and says so in
// x-ms-dynamics-msg-size-exceeded), so 1 MiB leaves room without letting a caller exhaust memory.
const DefaultMaxBody = 1 << 20

// Auth is what a Receiver expects from Dataverse, matching the authentication type of the service
// endpoint registration. Fields left empty are not checked, so the zero value accepts
// every request; set the one that matches the registration (several may be combined, and then all
// must pass).
type Auth struct {
	// Key is the WebhookKey secret (authtype 4), which Dataverse sends as the code query parameter,
	// the convention of Azure Functions. A repeated code parameter is refused.
	Key string
	// Headers are the HttpHeader pairs (authtype 5): each header must be present once with exactly
	// this value. Names are case-insensitive, as in HTTP.
	Headers map[string]string
	// Query are the HttpQueryString pairs (authtype 6): each query parameter must be present once
	// with exactly this value. Names are case-sensitive.
	Query map[string]string
}

// Option adjusts a Receiver in NewReceiver.
type Option func(*Receiver)

// WithMaxBodyBytes bounds the size of a request body; a larger one is refused with 413 before it is
// decoded. n <= 0 keeps DefaultMaxBody.
func WithMaxBodyBytes(n int64) Option {
	return func(wr *Receiver) {
		if n > 0 {
			wr.maxBody = n
		}
	}
}

// WithAsyncHandling makes the receiver acknowledge each event with 200 as soon as it is decoded and
// run the handler afterwards in its own goroutine, at most workers at a time (workers <= 0 means 1).
// Handler errors then no longer reach Dataverse, which cannot retry them; they go to the error
// handler (see WithHandlerErrors).
//
// When every worker is busy the request waits for one before it is acknowledged, so an event is never
// accepted that nothing will process and a burst slows Dataverse down instead of piling up goroutines.
// A request whose caller gives up while waiting is not handled. Wait lets a server drain handlers
// still running at shutdown.
func WithAsyncHandling(workers int) Option {
	return func(wr *Receiver) {
		if workers <= 0 {
			workers = 1
		}
		wr.slots = make(chan struct{}, workers)
	}
}

// WithHandlerErrors sets the function told about every handler error and recovered handler panic,
// in both modes. The default logs them with slog.Default at error level. It must be safe for
// concurrent use.
func WithHandlerErrors(f func(ctx context.Context, ev *Event, err error)) Option {
	return func(wr *Receiver) {
		if f != nil {
			wr.onError = f
		}
	}
}

// Receiver is an http.Handler for the requests a Dataverse webhook service endpoint sends
// (serviceendpoint contract 8): it checks the configured authentication, decodes the
// RemoteExecutionContext and hands it to a function. Build it with NewReceiver.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks
type Receiver struct {
	auth    Auth
	handle  func(ctx context.Context, ev *Event) error
	maxBody int64
	slots   chan struct{} // nil: handle synchronously
	onError func(ctx context.Context, ev *Event, err error)
	running sync.WaitGroup

	// operation, when set (NewOperationReceiver), answers each event with output parameters.
	operation OperationHandler

	// equal compares a received secret with the expected one; tests wrap it to see that every
	// configured secret is compared.
	equal func(got, want string) bool
}

// NewReceiver returns a receiver that answers Dataverse webhook calls:
//
//   - Authentication comes first, for every method: the code parameter (Key), every configured
//     header and every configured query parameter are compared in constant time, and all of them are
//     compared even when one already failed. A failure is a 401 whose body says nothing about the
//     expected values.
//   - GET and HEAD are probes (a registration tool or a health check making sure the URL and its
//     key work): 200 with an empty body, handle is not called.
//   - A POST whose x-ms-dynamics-request-name is URL_VALIDATION, or whose body is empty, is a
//     validation call: 200 with an empty body, handle is not called. Dataverse itself does not
//     document such calls; integration platforms send them, and answering them is harmless.
//   - Any other method is a 405.
//   - A body over the size limit is a 413 and a body that is not an execution context a 400.
//   - Otherwise handle gets the decoded Event and the request's context. An error (or a panic) from
//     it is a 500, which Dataverse records as a failed delivery and, for a synchronous step, as a
//     failed operation; nil is a 200 with an empty body. Dataverse waits 60 seconds at most, so a
//     slow handle belongs behind WithAsyncHandling.
//
// Secret headers configured in auth are removed from Event.Headers, so that logging an event never
// prints them.
func NewReceiver(auth Auth, handle func(ctx context.Context, ev *Event) error, opts ...Option) *Receiver {
	wr := &Receiver{
		auth:    cloneAuth(auth),
		handle:  handle,
		maxBody: DefaultMaxBody,
		onError: logHandlerError,
		equal:   secretEqual,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(wr)
		}
	}
	return wr
}

func cloneAuth(a Auth) Auth {
	out := Auth{Key: a.Key}
	if len(a.Headers) > 0 {
		out.Headers = make(map[string]string, len(a.Headers))
		for k, v := range a.Headers {
			out.Headers[http.CanonicalHeaderKey(k)] = v
		}
	}
	if len(a.Query) > 0 {
		out.Query = make(map[string]string, len(a.Query))
		for k, v := range a.Query {
			out.Query[k] = v
		}
	}
	return out
}

func logHandlerError(ctx context.Context, ev *Event, err error) {
	args := []any{"error", err}
	if ev != nil {
		args = append(args, "message", ev.MessageName, "entity", ev.PrimaryEntityName, "id", ev.PrimaryEntityID,
			"correlation_id", ev.CorrelationID)
	}
	slog.Default().ErrorContext(ctx, "dataverse webhook handler failed", args...)
}

// secretEqual compares two secrets in time that depends on neither their contents nor their
// lengths: both are hashed first, so subtle.ConstantTimeCompare always sees 32 bytes (it returns
// early on a length mismatch, which would leak the expected length).
func secretEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// authorized checks every configured secret without stopping at the first mismatch, so the time
// taken does not say which one failed.
func (wr *Receiver) authorized(r *http.Request) bool {
	ok := true
	q := r.URL.Query()
	check := func(present bool, got, want string) {
		// Compare even when the value is missing, so a missing value costs the same as a wrong one.
		eq := wr.equal(got, want)
		ok = ok && present && eq
	}
	if wr.auth.Key != "" {
		check(len(q["code"]) == 1, q.Get("code"), wr.auth.Key)
	}
	for name, want := range wr.auth.Headers {
		vals := r.Header.Values(name)
		got := ""
		if len(vals) > 0 {
			got = vals[0]
		}
		check(len(vals) == 1, got, want)
	}
	for name, want := range wr.auth.Query {
		vals := q[name]
		got := ""
		if len(vals) > 0 {
			got = vals[0]
		}
		check(len(vals) == 1, got, want)
	}
	return ok
}

// ServeHTTP implements http.Handler; see NewReceiver.
func (wr *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !wr.authorized(r) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("x-ms-dynamics-request-name")), "URL_VALIDATION") {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wr.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	ev, err := Decode(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev.Headers = r.Header.Clone()
	for name := range wr.auth.Headers {
		ev.Headers.Del(name)
	}
	ev.SizeExceeded = sizeExceeded(ev.Headers.Get("x-ms-dynamics-msg-size-exceeded"))

	if wr.operation != nil {
		wr.serveOperation(w, r.Context(), ev)
		return
	}
	if wr.slots == nil {
		if err := wr.call(r.Context(), ev); err != nil {
			// The reason stays on this side: Dataverse stores response bodies in its system jobs.
			http.Error(w, "event handler failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	select {
	case wr.slots <- struct{}{}:
	case <-r.Context().Done():
		http.Error(w, "receiver busy", http.StatusServiceUnavailable)
		return
	}
	// The handler outlives the request: keep the request's values, drop its cancellation.
	ctx := context.WithoutCancel(r.Context())
	wr.running.Add(1)
	go func() {
		defer wr.running.Done()
		defer func() { <-wr.slots }()
		wr.call(ctx, ev)
	}()
	w.WriteHeader(http.StatusOK)
}

// call runs handle, turning a panic into an error, and reports failures to the error handler.
func (wr *Receiver) call(ctx context.Context, ev *Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("webhook: handler panicked: %v", p)
		}
		if err != nil {
			wr.onError(ctx, ev, err)
		}
	}()
	if wr.handle == nil {
		return nil
	}
	return wr.handle(ctx, ev)
}

// Wait blocks until the handlers started by WithAsyncHandling have returned, or ctx ends. Call it
// after http.Server.Shutdown so that acknowledged events are not dropped on exit. Without async
// handling it returns at once.
func (wr *Receiver) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		wr.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sizeExceeded(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && !strings.EqualFold(v, "false") && v != "0"
}
