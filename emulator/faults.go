package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Faults make the emulator fail on purpose, so that a test can see what its code does when
// Dataverse is slow, throttles or breaks: POST /_emulator/faults adds a rule that matches
// requests (method, path prefix, entity set or operation, a header, $batch parts or not) and says
// what to do with them (answer a status with a Dataverse-shaped error, add latency, reset the
// connection, never answer), and how often (the next N matches, with a probability from a seed, or
// until removed). Rules apply in the order they were added, the first that matches; the journal
// names the rule that acted.

// FaultRule is one rule, as POST /_emulator/faults takes it and GET lists it.
type FaultRule struct {
	ID    int64      `json:"id"`
	Match FaultMatch `json:"match"`
	// Response answers the request with its status instead of serving it; nil serves it (after
	// LatencyMs).
	Response *FaultResponse `json:"response,omitempty"`
	// LatencyMs delays the request before it is served or answered.
	LatencyMs int `json:"latencyMs,omitempty"`
	// Action is "reset" (close the connection without an answer) or "timeout" (answer nothing
	// until the client gives up, or TimeoutMs passes); empty for the others.
	Action    string `json:"action,omitempty"`
	TimeoutMs int    `json:"timeoutMs,omitempty"`
	// Times is how many matching requests the rule acts on before it goes; 0 is every one until
	// the rule is deleted. Remaining says how many are left.
	Times     int `json:"times,omitempty"`
	Remaining int `json:"remaining,omitempty"`
	// Probability acts on that share of the matching requests (0 or 1: all), drawn from Seed.
	Probability float64 `json:"probability,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
	// Applied counts the requests the rule acted on.
	Applied int `json:"applied"`

	rng *rand.Rand
}

// FaultMatch says which requests a rule acts on; empty fields match anything.
type FaultMatch struct {
	Method string `json:"method,omitempty"`
	// Path is a prefix of the URL path ("/api/data/v9.2/accounts"); in an environment, with or
	// without its "/env/{name}" prefix.
	Path string `json:"path,omitempty"`
	// EntitySet and Operation match the Web API resource: the entity set of the first path
	// segment ("accounts"), or the function or action name ("WhoAmI").
	EntitySet string `json:"entitySet,omitempty"`
	Operation string `json:"operation,omitempty"`
	// Query matches a request whose query string contains it ("fetchXml=" for FetchXML queries).
	Query string `json:"query,omitempty"`
	// Header matches a request header's value exactly, as "Name: value".
	Header string `json:"header,omitempty"`
	// BatchPart true matches only $batch parts, false only requests on their own; absent, both.
	BatchPart *bool `json:"batchPart,omitempty"`
}

// FaultResponse is the answer a rule gives.
type FaultResponse struct {
	Status int `json:"status"`
	// Code and Message make the Dataverse error body; they default by status.
	Code    string            `json:"code,omitempty"`
	Message string            `json:"message,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// faults holds the rules.
type faults struct {
	mu     sync.Mutex
	rules  []*FaultRule
	lastID int64
}

// defaultFault is the code and message of a status when the rule gives none.
func defaultFault(status int) (code, message string) {
	switch status {
	case http.StatusTooManyRequests:
		return "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
	case http.StatusServiceUnavailable:
		return "0x80040216", "The service is unavailable (fault injected by dynlocal)."
	case http.StatusGatewayTimeout:
		return "0x80040216", "The request timed out (fault injected by dynlocal)."
	}
	if status >= 500 {
		return "0x80040216", "An unexpected error occurred (fault injected by dynlocal)."
	}
	return "0x80040216", fmt.Sprintf("%s (fault injected by dynlocal).", http.StatusText(status))
}

func (f *faults) add(r FaultRule) (FaultRule, error) {
	switch r.Action {
	case "", "reset", "timeout":
	default:
		return FaultRule{}, dverr.BadRequest("Unknown fault action '%s': use reset or timeout, or a response.", r.Action)
	}
	if r.Response == nil && r.Action == "" && r.LatencyMs <= 0 {
		return FaultRule{}, dverr.BadRequest("A fault rule needs a response, a latencyMs or an action.")
	}
	if r.Response != nil && (r.Response.Status < 400 || r.Response.Status > 599) {
		return FaultRule{}, dverr.BadRequest("A fault response's status must be between 400 and 599, not %d.", r.Response.Status)
	}
	if r.Response != nil && r.Action != "" {
		return FaultRule{}, dverr.BadRequest("A fault rule has either a response or an action, not both.")
	}
	if r.Times < 0 || r.LatencyMs < 0 || r.TimeoutMs < 0 || r.Probability < 0 || r.Probability > 1 {
		return FaultRule{}, dverr.BadRequest("times, latencyMs and timeoutMs cannot be negative, and probability is between 0 and 1.")
	}
	if h := r.Match.Header; h != "" && !strings.Contains(h, ":") {
		return FaultRule{}, dverr.BadRequest("match.header must be 'Name: value', not '%s'.", h)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastID++
	r.ID, r.Remaining, r.Applied = f.lastID, r.Times, 0
	if r.Probability > 0 && r.Probability < 1 {
		r.rng = rand.New(rand.NewPCG(r.Seed, r.Seed^0x9e3779b97f4a7c15))
	}
	if r.Response != nil && r.Response.Code == "" {
		r.Response.Code, _ = defaultFault(r.Response.Status)
	}
	if r.Response != nil && r.Response.Message == "" {
		_, r.Response.Message = defaultFault(r.Response.Status)
	}
	f.rules = append(f.rules, &r)
	return r, nil
}

func (f *faults) list() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, *r)
	}
	return out
}

func (f *faults) remove(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return true
		}
	}
	return false
}

func (f *faults) clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// pick returns the rule that acts on a request, counting it, or nil.
func (f *faults) pick(r *http.Request, batchPart bool) *FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rules) == 0 {
		return nil
	}
	set := resourceName(r.URL.Path)
	for i, rule := range f.rules {
		if !rule.Match.matches(r, set, batchPart) {
			continue
		}
		if rule.rng != nil && rule.rng.Float64() >= rule.Probability {
			continue
		}
		rule.Applied++
		picked := *rule
		if rule.Times > 0 {
			rule.Remaining--
			if rule.Remaining == 0 {
				f.rules = append(f.rules[:i], f.rules[i+1:]...)
			}
		}
		return &picked
	}
	return nil
}

func (m *FaultMatch) matches(r *http.Request, resource string, batchPart bool) bool {
	switch {
	case m.Method != "" && !strings.EqualFold(m.Method, r.Method),
		m.Path != "" && !strings.HasPrefix(r.URL.Path, m.Path) && !strings.HasPrefix(wire.BasePath(r.Context())+r.URL.Path, m.Path),
		m.EntitySet != "" && m.EntitySet != resource,
		m.Operation != "" && m.Operation != resource,
		m.BatchPart != nil && *m.BatchPart != batchPart,
		m.Query != "" && !strings.Contains(r.URL.RawQuery, m.Query) && !strings.Contains(r.URL.Query().Encode(), m.Query):
		return false
	}
	if m.Header != "" {
		name, value, _ := strings.Cut(m.Header, ":")
		if r.Header.Get(strings.TrimSpace(name)) != strings.TrimSpace(value) {
			return false
		}
	}
	return true
}

// resourceName is the first Web API segment of a path, without its key or parameters:
// "accounts" for /api/data/v9.2/accounts(…)/x, "WhoAmI" for /api/data/v9.2/WhoAmI().
func resourceName(path string) string {
	_, rest, ok := strings.Cut(path, "/api/data/")
	if !ok {
		return ""
	}
	_, rest, _ = strings.Cut(rest, "/")
	seg, _, _ := strings.Cut(rest, "/")
	seg, _, _ = strings.Cut(seg, "(")
	return seg
}

// injectFaults applies the fault rules to the requests it serves.
func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.applyFault(w, r, nil, false) {
			next.ServeHTTP(w, r)
		}
	})
}

// applyFault acts on a request as the first matching rule says, and reports whether it answered
// (or dropped) it, so that it must not be served.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, cs *webapi.ChangeSet, batchPart bool) bool {
	var rule *FaultRule
	if cs != nil {
		// A change set may run more than once (webapi.ChangeSet): its operation is picked for a
		// rule once, or a counted rule would be used up by runs the client never sees.
		rule, _ = cs.Remember("fault", func() any { return s.faults.pick(r, batchPart) }).(*FaultRule)
	} else {
		rule = s.faults.pick(r, batchPart)
	}
	if rule == nil {
		return false
	}
	noteFault(r.Context(), rule.ID)
	if rule.LatencyMs > 0 {
		t := time.NewTimer(time.Duration(rule.LatencyMs) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case rule.Response != nil:
		for k, v := range rule.Response.Headers {
			w.Header().Set(k, v)
		}
		if rule.Response.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
		noteReason(r.Context(), fmt.Sprintf("fault rule %d: %s: %s", rule.ID, rule.Response.Code, rule.Response.Message))
		wire.WriteError(w, r, dverr.New(rule.Response.Status, rule.Response.Code, "%s", rule.Response.Message), s.log)
		return true
	case rule.Action == "reset":
		noteReason(r.Context(), fmt.Sprintf("fault rule %d: connection reset", rule.ID))
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		// Behind a $batch or HTTP/2 there is no connection to drop: answer as a dropped
		// gateway would.
		wire.WriteError(w, r, dverr.New(http.StatusBadGateway, "0x80040216", "The connection was reset (fault injected by dynlocal)."), s.log)
		return true
	case rule.Action == "timeout":
		noteReason(r.Context(), fmt.Sprintf("fault rule %d: no answer", rule.ID))
		limit := time.Duration(rule.TimeoutMs) * time.Millisecond
		if limit <= 0 {
			limit = 2 * time.Minute // Dataverse's own limit on a request
		}
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-t.C:
			wire.WriteError(w, r, dverr.New(http.StatusGatewayTimeout, "0x80040216", "The request timed out (fault injected by dynlocal)."), s.log)
		case <-r.Context().Done():
		}
		return true
	}
	return false // latency only: serve it
}

// The admin endpoints.

func (s *Server) addFault(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return dverr.BadRequest("Cannot read the fault rule: %v", err)
	}
	var rule FaultRule
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		return dverr.BadRequest("The fault rule is not valid JSON of the documented shape: %v", err)
	}
	added, err := s.faults.add(rule)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/_emulator/faults/"+strconv.FormatInt(added.ID, 10))
	wire.WriteJSON(w, http.StatusCreated, added)
	return nil
}

func (s *Server) listFaults(w http.ResponseWriter, r *http.Request) error {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": s.faults.list()})
	return nil
}

func (s *Server) deleteFault(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || !s.faults.remove(id) {
		return dverr.New(http.StatusNotFound, dverr.CodeNone, "No fault rule %s.", mux.Vars(r)["id"])
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) clearFaults(w http.ResponseWriter, r *http.Request) error {
	s.faults.clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AddFault adds a fault rule, as POST /_emulator/faults does, and returns it with its id.
func (s *Server) AddFault(rule FaultRule) (FaultRule, error) { return s.faults.add(rule) }

// Faults lists the fault rules, as GET /_emulator/faults does.
func (s *Server) Faults() []FaultRule { return s.faults.list() }

// RemoveFault removes a fault rule and reports whether it was there.
func (s *Server) RemoveFault(id int64) bool { return s.faults.remove(id) }

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.faults.clear() }
