package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// The asynchronous queue is the asyncoperation table: an asynchronous delivery is written as a
// system job waiting for resources when its operation commits, and the dispatcher's workers take
// waiting jobs from the store. A backlog therefore grows in the store, not in memory, and a
// dispatcher started on the same data resumes the jobs a stopped one left.
//
// The states and status reasons are the asynchronous service's:
//
//	statecode 0 Ready     statuscode 0  Waiting For Resources  queued, not started
//	statecode 1 Suspended statuscode 10 Waiting                a retry waits for postponeuntil
//	statecode 2 Locked    statuscode 20 In Progress            being delivered
//	statecode 3 Completed statuscode 30 Succeeded, 31 Failed
const (
	jobReady, jobWaitingForResources = int64(0), int64(0)
	jobSuspended, jobWaiting         = int64(1), int64(10)
	jobLocked, jobInProgress         = int64(2), int64(20)
	jobCompleted                     = int64(3)
	jobSucceeded, jobFailed          = int64(30), int64(31)
)

// Retries of an asynchronous delivery. Dataverse documents one more attempt when the endpoint
// answers 502, 503 or 504, and no other retry of an answer; an endpoint that does not answer at
// all (refused connection, timeout) is retried up to maxTransportRetries times. The delays are not
// documented: defaultRetryDelay doubles from one second up to a minute.
const maxTransportRetries = 3

func defaultRetryDelay(n int) time.Duration {
	d := time.Second << min(max(n-1, 0), 6)
	return min(d, time.Minute)
}

// jobData is what a system job keeps of its delivery, in its data column: everything needed to
// make the call again after a restart except the step, read by id when the job runs.
type jobData struct {
	Message     string          `json:"message"`
	Entity      string          `json:"entity"`
	ID          string          `json:"id,omitempty"`
	Host        string          `json:"host,omitempty"`
	Correlation string          `json:"correlation,omitempty"`
	Body        json.RawMessage `json:"body"`
}

// job is a pending system job read from the store.
type job struct {
	id      string
	stepID  string
	retries int
	data    jobData
}

// Start begins delivering the pending system jobs of the store, those a previous dispatcher on
// the same data left included. The server calls it once its data is in place.
func (h *Dispatcher) Start() {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		return
	}
	h.started = true
	h.mu.Unlock()
	h.workers.Add(1)
	go h.poll()
}

// enqueue writes the system job of an asynchronous delivery, waiting for resources. It runs once
// the operation has committed; a job that cannot be written is logged and listed as a failed
// delivery, never dropped silently.
func (h *Dispatcher) enqueue(d *delivery) {
	data, err := json.Marshal(jobData{Message: d.op, Entity: d.entity, ID: d.id, Host: d.host, Correlation: d.correlation, Body: d.body})
	h.mu.Lock()
	h.seq++
	seq := h.seq
	h.enqueuing++
	h.mu.Unlock()
	if err == nil {
		row := model.Row{
			"asyncoperationid":  h.cfg.NewID(),
			"name":              d.step.Name,
			"operationtype":     int64(1),
			"owningextensionid": model.Lookup{ID: d.step.ID, Entity: "sdkmessageprocessingstep"},
			"primaryentitytype": d.entity,
			"messagename":       d.op,
			"correlationid":     d.correlation,
			"statecode":         jobReady,
			"statuscode":        jobWaitingForResources,
			"depth":             int64(1),
			"retrycount":        int64(0),
			"sequence":          seq,
			"data":              string(data),
		}
		err = h.cfg.InsertJob(h.ctx, row)
	}
	if err != nil {
		h.cfg.Log.Error("write webhook system job", slog.String("step", d.step.Name), slog.Any("err", err))
		h.record(DeliveryRecord{Time: h.cfg.Clock().UTC(), StepID: d.step.ID, StepName: d.step.Name, Message: d.op, Entity: d.entity,
			RecordID: d.id, Mode: "async", URL: redactedURL(d.step.Endpoint.URL), Error: "the system job could not be written: " + err.Error()})
	}
	h.mu.Lock()
	h.enqueuing--
	h.mu.Unlock()
	h.signal()
}

// signal wakes the poller and everyone waiting for a change.
func (h *Dispatcher) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
	h.mu.Lock()
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

// poll resumes the jobs a previous dispatcher left, then hands waiting jobs to workers whenever
// something changes (and every few seconds, for jobs a snapshot or another writer brought back).
func (h *Dispatcher) poll() {
	defer h.workers.Done()
	if err := h.resume(); err != nil && h.ctx.Err() == nil {
		h.cfg.Log.Error("resume webhook system jobs", slog.Any("err", err))
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if err := h.fill(); err != nil && h.ctx.Err() == nil {
			h.cfg.Log.Error("read webhook system jobs", slog.Any("err", err))
		}
		select {
		case <-h.ctx.Done():
			return
		case <-h.wake:
		case <-tick.C:
		}
	}
}

// jobColumns resolves the asyncoperation columns the queue reads; ok is false when the schema has
// no such table (a store not loaded yet).
func jobColumns(tx *store.Tx) (e *model.Entity, cols map[string]*model.Column, ok bool) {
	e, ok = tx.Schema().Entity("asyncoperation")
	if !ok {
		return nil, nil, false
	}
	cols = map[string]*model.Column{}
	for _, n := range []string{"asyncoperationid", "statecode", "operationtype", "owningextensionid", "retrycount", "sequence", "data"} {
		a, found := e.Attribute(n)
		if !found {
			return nil, nil, false
		}
		cols[n] = &model.Column{Attr: a}
	}
	return e, cols, true
}

// jobQuery selects webhook system jobs in one of states, oldest first, leaving out the steps of
// skip.
func jobQuery(e *model.Entity, cols map[string]*model.Column, states []any, skip []any, top int) *model.Query {
	terms := []model.Expr{
		&model.In{Column: cols["statecode"], Values: states},
		&model.Compare{Left: cols["operationtype"], Op: model.Eq, Value: int64(1)},
		&model.Null{Column: cols["owningextensionid"], Negate: true},
		&model.Null{Column: cols["data"], Negate: true},
	}
	if len(skip) > 0 {
		terms = append(terms, &model.In{Column: cols["owningextensionid"], Values: skip, Negate: true})
	}
	return &model.Query{Entity: e, Filter: &model.And{Terms: terms},
		Columns: []*model.Attribute{cols["owningextensionid"].Attr, cols["retrycount"].Attr, cols["data"].Attr},
		Order:   []model.Order{{Column: cols["sequence"]}}, Top: top}
}

// resume puts the jobs a stopped dispatcher left in progress or waiting for a retry back in the
// queue.
func (h *Dispatcher) resume() error {
	var ids []string
	err := h.cfg.Store.Read(h.ctx, func(tx *store.Tx) error {
		e, cols, ok := jobColumns(tx)
		if !ok {
			return nil
		}
		res, err := tx.Select(jobQuery(e, cols, []any{jobSuspended, jobLocked}, nil, 0))
		if err != nil {
			return err
		}
		for _, r := range res.Rows {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := h.cfg.UpdateJob(h.ctx, id, model.Row{"statecode": jobReady, "statuscode": jobWaitingForResources}); err != nil {
			return err
		}
	}
	return nil
}

// fill starts waiting jobs while workers are free, at most PerEndpoint at a time for one
// endpoint: the jobs of an endpoint that has its share are left out of the query, so they never
// hold back the jobs of others.
func (h *Dispatcher) fill() error {
	for h.ctx.Err() == nil {
		h.mu.Lock()
		free := h.cfg.Workers - len(h.running)
		busy := make(map[string]int, len(h.busy))
		for k, v := range h.busy {
			busy[k] = v
		}
		h.mu.Unlock()
		if free <= 0 {
			return nil
		}
		steps, err := h.registered()
		if err != nil {
			return err
		}
		byID := map[string]*Step{}
		var skip []any
		for _, st := range steps {
			byID[st.ID] = st
			if busy[st.Endpoint.ID] >= h.cfg.PerEndpoint {
				skip = append(skip, st.ID)
			}
		}
		var jobs []job
		err = h.cfg.Store.Read(h.ctx, func(tx *store.Tx) error {
			e, cols, ok := jobColumns(tx)
			if !ok {
				return nil
			}
			res, err := tx.Select(jobQuery(e, cols, []any{jobReady}, skip, free*h.cfg.PerEndpoint))
			if err != nil {
				return err
			}
			for _, r := range res.Rows {
				j := job{id: r.ID}
				if l, ok := r.Row["owningextensionid"].(model.Lookup); ok {
					j.stepID = l.ID
				}
				if n, ok := r.Row["retrycount"].(int64); ok {
					j.retries = int(n)
				}
				s, _ := r.Row["data"].(string)
				if json.Unmarshal([]byte(s), &j.data) != nil {
					j.data = jobData{}
				}
				jobs = append(jobs, j)
			}
			return nil
		})
		if err != nil || len(jobs) == 0 {
			return err
		}
		started := 0
		for _, j := range jobs {
			h.mu.Lock()
			running := h.running[j.id]
			h.mu.Unlock()
			if running {
				continue
			}
			st := byID[j.stepID]
			if st == nil || len(j.data.Body) == 0 {
				h.finish(j, jobFailed, "The step of this system job no longer exists or its data cannot be read.", 0)
				started++
				continue
			}
			if busy[st.Endpoint.ID] >= h.cfg.PerEndpoint || free == 0 {
				continue
			}
			now := h.cfg.Clock().UTC().Truncate(time.Second)
			if err := h.cfg.UpdateJob(h.ctx, j.id, model.Row{"statecode": jobLocked, "statuscode": jobInProgress, "startedon": now}); err != nil {
				h.cfg.Log.Warn("start webhook system job", slog.String("job", j.id), slog.Any("err", err))
				continue
			}
			busy[st.Endpoint.ID]++
			free--
			started++
			h.mu.Lock()
			h.running[j.id] = true
			h.busy[st.Endpoint.ID]++
			h.mu.Unlock()
			h.workers.Add(1)
			go h.run(j, st)
		}
		if started == 0 {
			return nil
		}
	}
	return nil
}

// registered returns every registered step, reading the registrations when they changed.
func (h *Dispatcher) registered() ([]*Step, error) {
	gen := h.generation()
	h.mu.Lock()
	steps, ok := h.steps, h.loaded && h.gen == gen
	h.mu.Unlock()
	if ok {
		return steps, nil
	}
	err := h.cfg.Store.Read(h.ctx, func(tx *store.Tx) error {
		var err error
		steps, err = loadSteps(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.steps, h.gen, h.loaded = steps, gen, true
	h.mu.Unlock()
	return steps, nil
}

// run delivers one job and records the outcome: succeeded, failed, or waiting for a retry.
func (h *Dispatcher) run(j job, st *Step) {
	defer h.workers.Done()
	defer func() {
		h.mu.Lock()
		delete(h.running, j.id)
		h.busy[st.Endpoint.ID]--
		if h.busy[st.Endpoint.ID] <= 0 {
			delete(h.busy, st.Endpoint.ID)
		}
		h.mu.Unlock()
		h.signal()
	}()
	d := &delivery{step: st, op: j.data.Message, entity: j.data.Entity, id: j.data.ID, body: j.data.Body,
		host: j.data.Host, correlation: j.data.Correlation}
	rec, _ := h.deliver(h.ctx, d, 1)
	if h.ctx.Err() != nil {
		// Stopped mid-call: the job stays in progress and is resumed by the next dispatcher.
		return
	}
	if rec.Succeeded {
		if st.AsyncAutoDelete {
			if err := h.cfg.DeleteJob(h.ctx, j.id); err != nil && h.ctx.Err() == nil {
				h.cfg.Log.Warn("delete webhook system job", slog.String("job", j.id), slog.Any("err", err))
			}
			return
		}
		h.finish(j, jobSucceeded, "", j.retries)
		return
	}
	var perm permanentError
	gateway := rec.Status == http.StatusBadGateway || rec.Status == http.StatusServiceUnavailable || rec.Status == http.StatusGatewayTimeout
	noAnswer := rec.Status == 0 && !errors.As(rec.err, &perm)
	if gateway && j.retries < 1 || noAnswer && j.retries < maxTransportRetries {
		h.retry(j, describeFailure(rec))
		return
	}
	h.finish(j, jobFailed, describeFailure(rec), j.retries)
}

// retry puts a job in Waiting until its delay has passed, then back in the queue.
func (h *Dispatcher) retry(j job, msg string) {
	n := j.retries + 1
	delay := h.cfg.RetryDelay(n)
	until := h.cfg.Clock().UTC().Add(delay).Truncate(time.Second)
	h.mu.Lock()
	h.waiting++
	h.mu.Unlock()
	err := h.cfg.UpdateJob(h.ctx, j.id, model.Row{"statecode": jobSuspended, "statuscode": jobWaiting, "retrycount": int64(n),
		"postponeuntil": until, "message": msg, "friendlymessage": msg})
	if err != nil {
		h.mu.Lock()
		h.waiting--
		h.mu.Unlock()
		if h.ctx.Err() == nil {
			h.cfg.Log.Warn("postpone webhook system job", slog.String("job", j.id), slog.Any("err", err))
		}
		return
	}
	h.workers.Add(1)
	go func() {
		defer h.workers.Done()
		defer func() {
			h.mu.Lock()
			h.waiting--
			h.mu.Unlock()
			h.signal()
		}()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if err := h.cfg.UpdateJob(h.ctx, j.id, model.Row{"statecode": jobReady, "statuscode": jobWaitingForResources}); err != nil && h.ctx.Err() == nil {
			h.cfg.Log.Warn("requeue webhook system job", slog.String("job", j.id), slog.Any("err", err))
		}
	}()
}

// finish completes a job with status (Succeeded or Failed).
func (h *Dispatcher) finish(j job, status int64, msg string, retries int) {
	now := h.cfg.Clock().UTC().Truncate(time.Second)
	row := model.Row{"statecode": jobCompleted, "statuscode": status, "completedon": now, "retrycount": int64(retries)}
	if msg != "" {
		row["message"] = msg
		row["friendlymessage"] = msg
	}
	if err := h.cfg.UpdateJob(h.ctx, j.id, row); err != nil && h.ctx.Err() == nil {
		h.cfg.Log.Error("complete webhook system job", slog.String("job", j.id), slog.Any("err", err))
	}
}

// Wait returns once no asynchronous delivery is waiting, in progress or due for a retry (their
// system jobs completed), or when ctx ends. Deliveries queued after it returns are not waited for.
func (h *Dispatcher) Wait(ctx context.Context) error {
	for {
		h.mu.Lock()
		changed := h.changed
		active := len(h.running) + h.waiting + h.enqueuing
		h.mu.Unlock()
		if active == 0 {
			pending, err := h.pending(ctx)
			if err != nil || !pending {
				return err
			}
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

// pending reports whether the store holds a webhook system job that is not completed.
func (h *Dispatcher) pending(ctx context.Context) (bool, error) {
	found := false
	err := h.cfg.Store.Read(ctx, func(tx *store.Tx) error {
		e, cols, ok := jobColumns(tx)
		if !ok {
			return nil
		}
		res, err := tx.Select(jobQuery(e, cols, []any{jobReady, jobSuspended, jobLocked}, nil, 1))
		if err != nil {
			return err
		}
		found = len(res.Rows) > 0
		return nil
	})
	return found, err
}
