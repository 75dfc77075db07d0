package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Webhooks: steps registered the Dataverse way (serviceendpoints with contract 8 and
// sdkmessageprocessingsteps pointing at them) are called on Create, Update and Delete with the
// RemoteExecutionContext Dataverse posts. Synchronous steps run inside the operation's transaction
// and fail it when the endpoint fails; asynchronous (post-operation) steps are queued after
// commit, retried once on 502/503/504 and recorded in asyncoperations.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks

// Webhook stages and modes, as in sdkmessageprocessingstep.
const (
	stagePreValidation = 10
	stagePreOperation  = 20
	stagePostOperation = 40
	modeSync           = 0
	modeAsync          = 1
)

// Service endpoint auth types.
const (
	authWebhookKey      = 4
	authHTTPHeader      = 5
	authHTTPQueryString = 6
)

// webhookStep is a registered step whose handler is a webhook.
type webhookStep struct {
	ID, Name        string
	Message         string
	Entity          string
	Stage, Mode     int
	Rank            int
	Filtering       []string
	AsyncAutoDelete bool
	Endpoint        webhookEndpoint
	Images          []stepImage
}

type webhookEndpoint struct {
	ID, Name, URL string
	AuthType      int
	// AuthValue is the secret; it never leaves the emulator except to the endpoint itself.
	AuthValue string
}

type stepImage struct {
	Alias      string
	Type       int // 0 pre, 1 post, 2 both
	Attributes []string
}

func (st *webhookStep) wants(pre bool) bool {
	for _, im := range st.Images {
		if im.Type == 2 || pre && im.Type == 0 || !pre && im.Type == 1 {
			return true
		}
	}
	return false
}

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
}

// webhooks holds the step cache, the asynchronous queue and the recent deliveries.
type webhooks struct {
	s      *Server
	client *http.Client

	mu     sync.Mutex
	gen    uint64
	loaded bool
	steps  []*webhookStep
	recent []DeliveryRecord

	queue chan *delivery
	// ctx bounds the asynchronous workers' deliveries and system jobs; close cancels it.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// maxRecent bounds the deliveries the admin API remembers.
const maxRecent = 200

func newWebhooks(s *Server) *webhooks {
	h := &webhooks{s: s, client: &http.Client{Timeout: s.cfg.WebhookTimeout}, queue: make(chan *delivery, 1024)}
	// The workers outlive every request: their context is the server's own, ended by close.
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for i := 0; i < 4; i++ {
		h.workers.Add(1)
		go h.worker()
	}
	return h
}

// close stops the workers and cancels the deliveries in flight; queued deliveries that have not
// started are dropped.
func (h *webhooks) close() {
	h.cancel()
	h.workers.Wait()
}

var registrationTables = []string{"sdkmessageprocessingstep", "sdkmessageprocessingstepimage", "serviceendpoint", "sdkmessage", "sdkmessagefilter"}

func (h *webhooks) generation() uint64 {
	var g uint64
	for _, t := range registrationTables {
		g += h.s.store.Generation(t)
	}
	return g
}

// matching returns the enabled webhook steps for a message on an entity, in stage and rank order.
// Registrations are read once per change of the registration tables.
func (h *webhooks) matching(tx *store.Tx, message, entity string, changed model.Row) ([]*webhookStep, error) {
	gen := h.generation()
	h.mu.Lock()
	steps, ok := h.steps, h.loaded && h.gen == gen
	h.mu.Unlock()
	if !ok {
		var err error
		if steps, err = loadSteps(tx); err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.steps, h.gen, h.loaded = steps, gen, true
		h.mu.Unlock()
	}
	var out []*webhookStep
	for _, st := range steps {
		if st.Message != message || st.Entity != "" && st.Entity != entity {
			continue
		}
		if message == "Update" && len(st.Filtering) > 0 {
			hit := false
			for _, a := range st.Filtering {
				if _, ok := changed[a]; ok {
					hit = true
				}
			}
			if !hit {
				continue
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// loadSteps reads every enabled step whose event handler is a webhook service endpoint.
func loadSteps(tx *store.Tx) ([]*webhookStep, error) {
	sch := tx.Schema()
	se, ok1 := sch.Entity("sdkmessageprocessingstep")
	ep, ok2 := sch.Entity("serviceendpoint")
	msg, ok3 := sch.Entity("sdkmessage")
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	res, err := tx.Select(&model.Query{Entity: se})
	if err != nil {
		return nil, err
	}
	var out []*webhookStep
	for _, r := range res.Rows {
		row := r.Row
		if state, _ := row["statecode"].(int64); state != 0 {
			continue
		}
		handler, ok := row["eventhandler"].(model.Lookup)
		if !ok || handler.ID == "" {
			continue
		}
		epRow, _, err := tx.Get(ep, handler.ID, nil)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c, _ := epRow["contract"].(int64); c != 8 {
			continue
		}
		st := &webhookStep{ID: r.ID}
		st.Name, _ = row["name"].(string)
		if l, ok := row["sdkmessageid"].(model.Lookup); ok {
			m, _, err := tx.Get(msg, l.ID, []string{"name"})
			if err == nil {
				st.Message, _ = m["name"].(string)
			}
		}
		if l, ok := row["sdkmessagefilterid"].(model.Lookup); ok && l.ID != "" {
			if fe, ok := sch.Entity("sdkmessagefilter"); ok {
				f, _, err := tx.Get(fe, l.ID, []string{"primaryobjecttypecode"})
				if err == nil {
					st.Entity, _ = f["primaryobjecttypecode"].(string)
				}
			}
		}
		stage, _ := row["stage"].(int64)
		mode, _ := row["mode"].(int64)
		rank, _ := row["rank"].(int64)
		st.Stage, st.Mode, st.Rank = int(stage), int(mode), int(rank)
		if f, _ := row["filteringattributes"].(string); f != "" {
			for _, a := range strings.Split(f, ",") {
				if a = strings.TrimSpace(strings.ToLower(a)); a != "" {
					st.Filtering = append(st.Filtering, a)
				}
			}
		}
		st.AsyncAutoDelete, _ = row["asyncautodelete"].(bool)
		st.Endpoint.ID = handler.ID
		st.Endpoint.Name, _ = epRow["name"].(string)
		st.Endpoint.URL, _ = epRow["url"].(string)
		at, _ := epRow["authtype"].(int64)
		st.Endpoint.AuthType = int(at)
		st.Endpoint.AuthValue, _ = epRow["authvalue"].(string)
		if ie, ok := sch.Entity("sdkmessageprocessingstepimage"); ok {
			ids, err := tx.Referencing(ie, "sdkmessageprocessingstepid", r.ID)
			if err != nil {
				return nil, err
			}
			for _, iid := range ids {
				im, _, err := tx.Get(ie, iid, nil)
				if err != nil {
					return nil, err
				}
				var si stepImage
				si.Alias, _ = im["entityalias"].(string)
				t, _ := im["imagetype"].(int64)
				si.Type = int(t)
				if a, _ := im["attributes"].(string); a != "" {
					for _, x := range strings.Split(a, ",") {
						if x = strings.TrimSpace(strings.ToLower(x)); x != "" {
							si.Attributes = append(si.Attributes, x)
						}
					}
				}
				st.Images = append(st.Images, si)
			}
		}
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Stage != out[j].Stage {
			return out[i].Stage < out[j].Stage
		}
		return out[i].Rank < out[j].Rank
	})
	return out, nil
}

// operation is one write that webhook steps may see.
type operation struct {
	Message string
	Entity  *model.Entity
	ID      string
	Target  model.Row // the attributes written (Create, Update)
	Pre     model.Row // the row before (Update, Delete)
	Post    model.Row // the row after (Create, Update)
}

// run calls the steps of a stage for an operation. Synchronous steps are called now and their
// failure fails the operation; asynchronous post-operation steps are queued after commit.
func (h *webhooks) run(w *writer, steps []*webhookStep, stages []int, op *operation) error {
	for _, st := range steps {
		if !containsInt(stages, st.Stage) {
			continue
		}
		body, err := h.context(w, st, op)
		if err != nil {
			return err
		}
		d := &delivery{step: st, op: op.Message, entity: op.Entity.LogicalName, id: op.ID, body: body,
			host: w.host, correlation: w.correlation}
		if st.Mode == modeAsync && st.Stage == stagePostOperation {
			w.tx.OnCommit(func() { h.enqueue(d) })
			continue
		}
		rec := h.deliver(w.ctx, d)
		if !rec.Succeeded {
			return dverr.New(http.StatusBadRequest, "0x80040265",
				"An error occurred while calling the webhook '%s' of the step '%s': %s", st.Endpoint.Name, st.Name, describeFailure(rec))
		}
	}
	return nil
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
	step        *webhookStep
	op, entity  string
	id          string
	body        []byte
	host        string
	correlation string
}

func (h *webhooks) enqueue(d *delivery) {
	select {
	case h.queue <- d:
	case <-h.ctx.Done():
	default:
		// A full queue never blocks a request; the failure is recorded like any other.
		h.record(DeliveryRecord{Time: h.s.cfg.Clock().UTC(), StepID: d.step.ID, StepName: d.step.Name, Message: d.op, Entity: d.entity,
			RecordID: d.id, Mode: "async", URL: redactedURL(d.step.Endpoint.URL), Error: "delivery queue full"})
	}
}

func (h *webhooks) worker() {
	defer h.workers.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case d := <-h.queue:
			rec := h.deliver(h.ctx, d)
			h.recordJob(d, rec)
		}
	}
}

// deliver posts the execution context, retrying once on 502, 503 and 504 as Dataverse does.
func (h *webhooks) deliver(ctx context.Context, d *delivery) DeliveryRecord {
	st := d.step
	mode := "sync"
	if st.Mode == modeAsync {
		mode = "async"
	}
	rec := DeliveryRecord{Time: h.s.cfg.Clock().UTC(), StepID: st.ID, StepName: st.Name, Message: d.op, Entity: d.entity, RecordID: d.id,
		Mode: mode, URL: redactedURL(st.Endpoint.URL)}
	start := time.Now()
	for attempt := 1; attempt <= 2; attempt++ {
		rec.Attempts = attempt
		status, resp, err := h.post(ctx, d)
		rec.Status, rec.Response = status, resp
		rec.Error = ""
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
	rec.DurationMS = time.Since(start).Milliseconds()
	h.record(rec)
	if !rec.Succeeded {
		h.s.log.Warn("webhook delivery failed", slog.String("step", st.Name), slog.String("url", rec.URL), slog.Int("status", rec.Status), slog.String("error", rec.Error))
	}
	return rec
}

func (h *webhooks) post(ctx context.Context, d *delivery) (int, string, error) {
	ep := d.step.Endpoint
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return 0, "", fmt.Errorf("invalid endpoint URL")
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
	req.Header.Set("x-request-id", h.s.cfg.NewID())
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
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
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

func (h *webhooks) record(rec DeliveryRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent = append(h.recent, rec)
	if len(h.recent) > maxRecent {
		h.recent = h.recent[len(h.recent)-maxRecent:]
	}
}

// Deliveries returns the recent deliveries, newest last.
func (h *webhooks) deliveries() []DeliveryRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]DeliveryRecord(nil), h.recent...)
}

// recordJob writes the system job of an asynchronous delivery into asyncoperations: failed jobs
// always, succeeded ones unless the step deletes them automatically.
func (h *webhooks) recordJob(d *delivery, rec DeliveryRecord) {
	if rec.Succeeded && d.step.AsyncAutoDelete {
		return
	}
	err := h.s.store.Write(h.ctx, func(tx *store.Tx) error {
		ae, ok := tx.Schema().Entity("asyncoperation")
		if !ok {
			return nil
		}
		now := h.s.cfg.Clock().UTC().Truncate(time.Second)
		status, state := int64(30), int64(3)
		msg := ""
		if !rec.Succeeded {
			status = 31
			msg = describeFailure(rec)
		}
		row := model.Row{
			"asyncoperationid":  h.s.cfg.NewID(),
			"name":              d.step.Name,
			"operationtype":     int64(1),
			"owningextensionid": model.Lookup{ID: d.step.ID, Entity: "sdkmessageprocessingstep"},
			"primaryentitytype": d.entity,
			"correlationid":     d.correlation,
			"startedon":         now,
			"completedon":       now,
			"statecode":         state,
			"statuscode":        status,
			"depth":             int64(1),
			"retrycount":        int64(rec.Attempts - 1),
		}
		if msg != "" {
			row["message"] = msg
			row["friendlymessage"] = msg
		}
		w := h.s.newWriter(h.ctx, tx, caller{UserID: systemUserID, RealUserID: systemUserID})
		_, err := w.insertRow(ae, row)
		return err
	})
	if err != nil && h.ctx.Err() == nil {
		h.s.log.Error("record webhook job", slog.Any("err", err))
	}
}

// context builds the RemoteExecutionContext JSON for a step.
func (h *webhooks) context(w *writer, st *webhookStep, op *operation) ([]byte, error) {
	e := op.Entity
	now := w.now
	var target any
	if op.Message == "Delete" {
		target = entityReference(e.LogicalName, op.ID)
	} else {
		target = h.entityJSON(w, e, op.ID, op.Target, nil)
	}
	input := []any{kv("Target", target)}
	var output []any
	if op.Message == "Create" && st.Stage == stagePostOperation {
		output = append(output, kv("id", op.ID))
	}
	images := func(pre bool, row model.Row) []any {
		list := []any{}
		if row == nil || (pre && st.Stage < stagePostOperation && op.Message == "Create") {
			return list
		}
		if !pre && st.Stage != stagePostOperation {
			return list
		}
		for _, im := range st.Images {
			if im.Type == 2 || pre && im.Type == 0 || !pre && im.Type == 1 {
				list = append(list, kv(im.Alias, h.entityJSON(w, e, op.ID, row, im.Attributes)))
			}
		}
		return list
	}
	base := func(stage int) *wire.Object {
		o := wire.NewObject()
		o.Set("BusinessUnitId", w.c.BusinessUnitID)
		o.Set("CorrelationId", w.correlation)
		o.Set("Depth", 1)
		o.Set("InitiatingUserId", w.c.RealUserID)
		o.Set("InputParameters", input)
		o.Set("IsExecutingOffline", false)
		o.Set("IsInTransaction", st.Mode == modeSync)
		o.Set("IsOfflinePlayback", false)
		o.Set("IsolationMode", 1)
		o.Set("MessageName", op.Message)
		o.Set("Mode", st.Mode)
		o.Set("OperationCreatedOn", wcfDate(now))
		o.Set("OperationId", w.operationID)
		o.Set("OrganizationId", w.orgID)
		o.Set("OrganizationName", "dynlocal")
		o.Set("OutputParameters", nonNilList(output))
		o.Set("OwningExtension", map[string]any{"Id": st.ID, "KeyAttributes": []any{}, "LogicalName": "sdkmessageprocessingstep", "Name": st.Name, "RowVersion": nil})
		return o
	}
	ctx := base(st.Stage)
	parent := base(30)
	parent.Set("ParentContext", nil)
	parent.Set("PostEntityImages", []any{})
	parent.Set("PreEntityImages", []any{})
	parent.Set("PrimaryEntityId", op.ID)
	parent.Set("PrimaryEntityName", e.LogicalName)
	parent.Set("RequestId", w.correlation)
	parent.Set("SecondaryEntityName", "none")
	parent.Set("SharedVariables", []any{})
	parent.Set("Stage", 30)
	parent.Set("UserId", w.c.UserID)
	ctx.Set("ParentContext", parent)
	ctx.Set("PostEntityImages", images(false, op.Post))
	ctx.Set("PreEntityImages", images(true, op.Pre))
	ctx.Set("PrimaryEntityId", op.ID)
	ctx.Set("PrimaryEntityName", e.LogicalName)
	ctx.Set("RequestId", nil)
	ctx.Set("SecondaryEntityName", "none")
	ctx.Set("SharedVariables", []any{})
	ctx.Set("Stage", st.Stage)
	ctx.Set("UserId", w.c.UserID)
	body, err := wire.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	// The DataContract serializer escapes every '/', which only occurs inside strings.
	return bytes.ReplaceAll(body, []byte("/"), []byte(`\/`)), nil
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func kv(k string, v any) map[string]any { return map[string]any{"key": k, "value": v} }

const contractsNS = ":http://schemas.microsoft.com/xrm/2011/Contracts"

func entityReference(entity, id string) map[string]any {
	return map[string]any{"__type": "EntityReference" + contractsNS, "Id": id, "KeyAttributes": []any{}, "LogicalName": entity, "Name": nil, "RowVersion": nil}
}

// wcfDate writes a time as WCF's JSON date: \/Date(milliseconds)\/ (the slashes are escaped when
// the body is written).
func wcfDate(t time.Time) string { return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ")/" }

// entityJSON writes a row as an SDK Entity: Attributes and FormattedValues as key/value lists.
func (h *webhooks) entityJSON(w *writer, e *model.Entity, id string, row model.Row, only []string) map[string]any {
	names := make([]string, 0, len(row))
	for n := range row {
		if len(only) > 0 && !containsStr(only, n) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	attrs := []any{}
	formatted := []any{}
	for _, n := range names {
		a, ok := e.Attribute(n)
		if !ok || !a.ValidForRead {
			continue
		}
		v := row[n]
		attrs = append(attrs, kv(n, sdkValue(a, v)))
		if v != nil {
			if f := formatValue(a, v); f != "" && (a.IsChoice() || a.Type == model.TypeBoolean || a.Type == model.TypeMoney) {
				formatted = append(formatted, kv(n, f))
			}
		}
	}
	return map[string]any{
		"__type": "Entity" + contractsNS, "Attributes": attrs, "EntityState": nil, "FormattedValues": formatted,
		"Id": id, "KeyAttributes": []any{}, "LogicalName": e.LogicalName, "RelatedEntities": []any{}, "RowVersion": nil,
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sdkValue converts a column value to its SDK JSON form.
func sdkValue(a *model.Attribute, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case model.Lookup:
		if x.ID == "" {
			return nil
		}
		return entityReference(x.Entity, x.ID)
	case time.Time:
		return wcfDate(x)
	case model.Decimal:
		if a.Type == model.TypeMoney {
			return map[string]any{"__type": "Money" + contractsNS, "Value": json.RawMessage(x.String())}
		}
		return json.RawMessage(x.String())
	case int64:
		if a.IsChoice() {
			return map[string]any{"__type": "OptionSetValue" + contractsNS, "Value": x}
		}
		return x
	case []int64:
		list := []any{}
		for _, n := range x {
			list = append(list, map[string]any{"__type": "OptionSetValue" + contractsNS, "Value": n})
		}
		return list
	}
	return v
}
