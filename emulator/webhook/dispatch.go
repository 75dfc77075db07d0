package webhook

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// Webhook stages and modes, as in sdkmessageprocessingstep.
const (
	StagePreValidation = 10
	StagePreOperation  = 20
	StagePostOperation = 40
	ModeSync           = 0
	ModeAsync          = 1
)

// Service endpoint auth types.
const (
	authWebhookKey      = 4
	authHTTPHeader      = 5
	authHTTPQueryString = 6
)

// DeliveryRecord is one webhook call, as the admin API lists it. It never holds secrets.
type DeliveryRecord struct {
	Time       time.Time `json:"time"`
	StepID     string    `json:"stepId"`
	StepName   string    `json:"stepName"`
	Message    string    `json:"message"`
	Entity     string    `json:"entity"`
	RecordID   string    `json:"recordId"`
	Mode       string    `json:"mode"`
	URL        string    `json:"url"`
	Attempts   int       `json:"attempts"`
	Status     int       `json:"status"`
	Response   string    `json:"response,omitempty"`
	Error      string    `json:"error,omitempty"`
	Succeeded  bool      `json:"succeeded"`
	DurationMS int64     `json:"durationMs"`
	// err is the last attempt's error, when it had no answer.
	err error
}

// Dispatcher holds the step cache, the asynchronous queue and the recent deliveries.
type Dispatcher struct {
	cfg    Config
	client *http.Client

	mu     sync.Mutex
	gen    uint64
	loaded bool
	steps  []*Step
	recent []DeliveryRecord

	// The asynchronous queue is the asyncoperation table (queue.go): running holds the jobs being
	// delivered, busy how many of them each endpoint has, waiting the retries whose timer runs,
	// enqueuing the jobs being written; changed is closed, and replaced, on every change of those.
	running   map[string]bool
	busy      map[string]int
	waiting   int
	enqueuing int
	changed   chan struct{}
	wake      chan struct{}
	seq       int64
	started   bool
	listen    []string // the emulator's listen addresses (AddListenAddr)
	// ctx bounds the asynchronous workers' deliveries and system jobs; close cancels it.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// maxRecent bounds the deliveries the admin API remembers.
const maxRecent = 200

// Config is what the dispatcher needs from the server.
type Config struct {
	// Store holds the registrations (and is watched for their changes).
	Store *store.Store
	// Timeout bounds one call to an endpoint.
	Timeout time.Duration
	// Clock and NewID stamp deliveries and system jobs.
	Clock func() time.Time
	NewID func() string
	Log   *slog.Logger
	// InsertJob writes a system job (an asyncoperation row) with its system columns.
	InsertJob func(ctx context.Context, row model.Row) error
	// UpdateJob changes columns of a system job, DeleteJob removes one (a succeeded job of a step
	// that deletes its jobs automatically).
	UpdateJob func(ctx context.Context, id string, row model.Row) error
	DeleteJob func(ctx context.Context, id string) error
	// Workers bounds the asynchronous deliveries in progress (8 when 0), PerEndpoint those to one
	// endpoint (2 when 0), so a slow endpoint holds at most PerEndpoint workers.
	Workers, PerEndpoint int
	// RetryDelay is the wait before retry n (1, 2, ...) of an asynchronous delivery; nil uses
	// defaultRetryDelay.
	RetryDelay func(n int) time.Duration
	// Self returns the addresses (host:port) the emulator listens on; webhooks may not target them.
	Self func() []string
}

// New starts a dispatcher and its asynchronous workers; Close stops them.
func New(cfg Config) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = 2
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = defaultRetryDelay
	}
	h := &Dispatcher{cfg: cfg, running: map[string]bool{}, busy: map[string]int{}, changed: make(chan struct{}),
		wake: make(chan struct{}, 1)}
	h.client = &http.Client{Timeout: cfg.Timeout, Transport: h.transport()}
	h.seq = cfg.Clock().UnixNano()
	// The workers outlive every request: their context is the server's own, ended by close.
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Close stops the workers and cancels the deliveries in flight. Their system jobs stay pending (or
// in progress) in the store, and a dispatcher started on the same data takes them up again.
func (h *Dispatcher) Close() {
	h.cancel()
	h.workers.Wait()
}

// Invocation is what the steps of one operation see of it besides the rows: who runs it, when,
// under which request and in which transaction.
type Invocation struct {
	// Ctx is the request's: synchronous calls end with it.
	Ctx context.Context
	// Tx is the operation's transaction; asynchronous calls are queued when it commits.
	Tx *store.Tx
	// Ledger, when set, makes the synchronous calls outside Tx (see Ledger).
	Ledger *Ledger
	// UserID is who the operation acts as, RealUserID who sent it (they differ under
	// impersonation), BusinessUnitID UserID's business unit.
	UserID, RealUserID, BusinessUnitID string
	// Host is the host the request was sent to, reported as the organization.
	Host string
	// CorrelationID, OperationID and OrganizationID identify the operation in the context.
	CorrelationID, OperationID, OrganizationID string
	// Now is the operation's time.
	Now time.Time
}

// Operation is one write that webhook steps may see.
type Operation struct {
	Message string
	Entity  *model.Entity
	ID      string
	Target  model.Row // the attributes written (Create, Update)
	Pre     model.Row // the row before (Update, Delete)
	Post    model.Row // the row after (Create, Update)
	// Rows are the rows of a bulk call (CreateMultiple, UpdateMultiple, UpsertMultiple), each with
	// its ID, Target, Pre and Post; ID is then empty. Nil for a single-row operation.
	Rows []*Operation
}

// Run calls the steps of a stage for an operation. Synchronous steps are called now and their
// failure fails the operation; asynchronous post-operation steps are queued after commit.
func (h *Dispatcher) Run(w *Invocation, steps []*Step, stages []int, op *Operation) error {
	for _, st := range steps {
		if !containsInt(stages, st.Stage) {
			continue
		}
		body, err := h.context(w, st, op)
		if err != nil {
			return err
		}
		d := &delivery{step: st, op: st.Message, entity: op.Entity.LogicalName, id: op.ID, body: body,
			host: w.Host, correlation: w.CorrelationID}
		if st.Mode == ModeAsync && st.Stage == StagePostOperation {
			w.Tx.OnCommit(func() { h.enqueue(d) })
			continue
		}
		rec, _, made := h.callSync(w, d, 2)
		if !made {
			// Pending: the operation goes on as if the call succeeded and runs again once it is made.
			continue
		}
		if !rec.Succeeded {
			return dverr.New(http.StatusBadRequest, "0x80040265",
				"An error occurred while calling the webhook '%s' of the step '%s': %s", st.Endpoint.Name, st.Name, describeFailure(rec))
		}
	}
	return nil
}

// callSync makes a synchronous call: through the invocation's Ledger when it has one (made is
// then false while the call is pending), else at once.
func (h *Dispatcher) callSync(w *Invocation, d *delivery, attempts int) (rec DeliveryRecord, answer []byte, made bool) {
	if w.Ledger != nil {
		return w.Ledger.call(w.Ctx, h, d, attempts)
	}
	rec, answer = h.deliver(w.Ctx, d, attempts)
	return rec, answer, true
}

func describeFailure(rec DeliveryRecord) string {
	if rec.Error != "" {
		return rec.Error
	}
	return fmt.Sprintf("the endpoint answered %d %s", rec.Status, http.StatusText(rec.Status))
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// delivery is a call to make.
type delivery struct {
	step        *Step
	op, entity  string
	id          string
	body        []byte
	host        string
	correlation string
	// answerLimit bounds the endpoint's answer read (4 KiB when 0): a custom API's main operation
	// answers with its output parameters.
	answerLimit int64
}

// deliver posts the execution context, up to maxAttempts times while the endpoint answers 502,
// 503 or 504 (Dataverse makes one more attempt on those: synchronous calls pass 2; asynchronous
// jobs pass 1 and retry as jobs, after a delay). It returns the endpoint's answer (up to
// d.answerLimit) beside the record, which keeps at most 4 KiB of it.
func (h *Dispatcher) deliver(ctx context.Context, d *delivery, maxAttempts int) (DeliveryRecord, []byte) {
	st := d.step
	mode := "sync"
	if st.Mode == ModeAsync {
		mode = "async"
	}
	rec := DeliveryRecord{Time: h.cfg.Clock().UTC(), StepID: st.ID, StepName: st.Name, Message: d.op, Entity: d.entity, RecordID: d.id,
		Mode: mode, URL: redactedURL(st.Endpoint.URL)}
	start := time.Now()
	var answer string
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		rec.Attempts = attempt
		status, resp, err := h.post(ctx, d)
		rec.Status, answer = status, resp
		rec.Error, rec.err = "", err
		if err != nil {
			rec.Error = err.Error()
		}
		if err == nil && status >= 200 && status < 300 {
			rec.Succeeded = true
			break
		}
		if err != nil || status != http.StatusBadGateway && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			break
		}
	}
	rec.Response = answer
	if len(rec.Response) > maxRecordedAnswer {
		rec.Response = rec.Response[:maxRecordedAnswer]
	}
	rec.DurationMS = time.Since(start).Milliseconds()
	h.record(rec)
	if !rec.Succeeded {
		h.cfg.Log.Warn("webhook delivery failed", slog.String("step", st.Name), slog.String("url", rec.URL), slog.Int("status", rec.Status), slog.String("error", rec.Error))
	}
	return rec, []byte(answer)
}

// maxRecordedAnswer bounds the part of an endpoint's answer a DeliveryRecord keeps.
const maxRecordedAnswer = 4096

func (h *Dispatcher) post(ctx context.Context, d *delivery) (int, string, error) {
	ep := d.step.Endpoint
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return 0, "", permanentError{errors.New("invalid endpoint URL")}
	}
	if err := h.refuseTarget(u); err != nil {
		return 0, "", permanentError{err}
	}
	header := http.Header{}
	q := u.Query()
	switch ep.AuthType {
	case authWebhookKey:
		q.Set("code", ep.AuthValue)
	case authHTTPQueryString:
		for _, kv := range parseAuthSettings(ep.AuthValue) {
			q.Set(kv[0], kv[1])
		}
	case authHTTPHeader:
		for _, kv := range parseAuthSettings(ep.AuthValue) {
			header.Set(kv[0], kv[1])
		}
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(d.body))
	if err != nil {
		return 0, "", errors.New("invalid endpoint URL")
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-request-id", h.cfg.NewID())
	req.Header.Set("x-ms-dynamics-organization", d.host)
	req.Header.Set("x-ms-dynamics-entity-name", d.entity)
	req.Header.Set("x-ms-dynamics-request-name", d.op)
	req.Header.Set("x-ms-correlation-request-id", d.correlation)
	resp, err := h.client.Do(req)
	if err != nil {
		// The error text names the URL, which may carry the key: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var se selfTargetError
		if errors.As(err, &se) {
			err = permanentError{se}
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	limit := d.answerLimit
	if limit <= 0 {
		limit = maxRecordedAnswer
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, string(b), nil
}

// parseAuthSettings reads the name/value pairs the registration tool stores in authvalue for
// HttpHeader and HttpQueryString endpoints: <settings><setting name="k" value="v" /></settings>.
// A plain "k=v;k2=v2" list is accepted too.
func parseAuthSettings(v string) [][2]string {
	var out [][2]string
	var doc struct {
		Settings []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"setting"`
	}
	if strings.HasPrefix(strings.TrimSpace(v), "<") {
		if err := xml.Unmarshal([]byte(v), &doc); err == nil {
			for _, s := range doc.Settings {
				if s.Name != "" {
					out = append(out, [2]string{s.Name, s.Value})
				}
			}
		}
		return out
	}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		if ok && strings.TrimSpace(k) != "" {
			out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(val)})
		}
	}
	return out
}

// redactedURL drops the query string, where a webhook key may travel.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

func (h *Dispatcher) record(rec DeliveryRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent = append(h.recent, rec)
	if len(h.recent) > maxRecent {
		h.recent = h.recent[len(h.recent)-maxRecent:]
	}
}

// Deliveries returns the recent deliveries, newest last.
func (h *Dispatcher) Deliveries() []DeliveryRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]DeliveryRecord(nil), h.recent...)
}
