package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// StageMainOperation is the stage of a custom API's main operation. Dataverse runs the custom
// API's plug-in there; the emulator calls a synchronous webhook step registered on it instead.
const StageMainOperation = 30

// maxAnswer bounds the answer of a main operation's endpoint, which carries the output parameters.
const maxAnswer = 4 << 20

// Parameter is one input or output parameter of a message, its value in the execution context's
// JSON form (Entity, EntityReference, Money, OptionSetValue objects with their __type, WCF dates).
type Parameter struct {
	Key   string
	Value any
}

// APICall is a call of a custom API as its webhook steps see it.
type APICall struct {
	// Message is the custom API's unique name, which is its message's name.
	Message string
	// Entity is the table a bound custom API is called on ("" when unbound) and ID the row of an
	// entity-bound call.
	Entity, ID string
	// Input are the request parameters, in the order the context lists them.
	Input []Parameter
}

// RunAPI runs the steps of a custom API call: synchronous steps of stages 10 and 20, the main
// operation (stage 30), synchronous post-operation steps, then queues the asynchronous
// post-operation ones. It returns the output parameters the main operation's endpoint answered
// with, as raw JSON by name, and whether a main operation step ran. A synchronous step that fails
// fails the call; the message is the one the endpoint answered with, when it gave one, as a
// plug-in's exception message would be. No transaction is held while endpoints are called, so
// they may call the Web API back: w.Tx is nil outside a $batch change set (asynchronous steps are
// then queued at once), and inside one w.Ledger makes the calls with the change set rolled back.
func (h *Dispatcher) RunAPI(w *Invocation, steps []*Step, call *APICall) (map[string]json.RawMessage, bool, error) {
	var output []Parameter
	var outRaw map[string]json.RawMessage
	ran := false
	for _, stage := range []int{StagePreValidation, StagePreOperation, StageMainOperation, StagePostOperation} {
		for _, st := range steps {
			if st.Stage != stage {
				continue
			}
			body, err := h.apiContext(w, st, call, output)
			if err != nil {
				return nil, ran, err
			}
			d := &delivery{step: st, op: call.Message, entity: entityOrNone(call.Entity), id: call.ID, body: body,
				host: w.Host, correlation: w.CorrelationID}
			if st.Mode == ModeAsync {
				if stage != StagePostOperation {
					continue
				}
				if w.Tx != nil {
					w.Tx.OnCommit(func() { h.enqueue(d) })
				} else {
					h.enqueue(d)
				}
				continue
			}
			if stage == StageMainOperation {
				d.answerLimit = maxAnswer
			}
			rec, answer, made := h.callSync(w, d, 2)
			if !made {
				// What follows depends on this call's answer: the run ends here and is made again
				// once the call is made (see Ledger).
				return nil, ran, errPending
			}
			if !rec.Succeeded {
				if msg := answerMessage(answer); msg != "" {
					return nil, ran, dverr.New(http.StatusBadRequest, "0x80040265", "%s", msg)
				}
				return nil, ran, dverr.New(http.StatusBadRequest, "0x80040265",
					"An error occurred while calling the webhook '%s' of the step '%s': %s", st.Endpoint.Name, st.Name, describeFailure(rec))
			}
			if stage != StageMainOperation {
				continue
			}
			ran = true
			out, err := outputParameters(answer)
			if err != nil {
				return nil, ran, dverr.New(http.StatusBadRequest, "0x80040265",
					"The webhook '%s' of the step '%s' answered with output parameters that are not valid: %v", st.Endpoint.Name, st.Name, err)
			}
			if outRaw == nil {
				outRaw = map[string]json.RawMessage{}
			}
			for _, p := range out {
				outRaw[p.Key] = p.Value.(json.RawMessage)
			}
			output = sortedOutput(outRaw)
		}
	}
	return outRaw, ran, nil
}

func entityOrNone(entity string) string {
	if entity == "" {
		return "none"
	}
	return entity
}

// sortedOutput lists output parameters by name, so contexts are deterministic.
func sortedOutput(m map[string]json.RawMessage) []Parameter {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Parameter, 0, len(keys))
	for _, k := range keys {
		out = append(out, Parameter{Key: k, Value: m[k]})
	}
	return out
}

// answerMessage reads the message of a failed endpoint's JSON answer: {"message": "..."} (also
// "Message", or an {"error": {"message": "..."}} envelope). It is empty when there is none.
func answerMessage(answer []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(answer, &m) != nil {
		return ""
	}
	for _, k := range []string{"message", "Message"} {
		var s string
		if json.Unmarshal(m[k], &s) == nil && strings.TrimSpace(s) != "" {
			return s
		}
	}
	if raw, ok := m["error"]; ok {
		return answerMessage(raw)
	}
	return ""
}

// outputParameters reads the output parameters of a main operation's answer: a JSON object whose
// OutputParameters is a key/value list as in the execution context ([{"key": k, "value": v}]),
// or that list alone. An empty answer has none.
func outputParameters(answer []byte) ([]Parameter, error) {
	answer = bytes.TrimSpace(answer)
	if len(answer) == 0 {
		return nil, nil
	}
	var list json.RawMessage
	if answer[0] == '[' {
		list = answer
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(answer, &obj); err != nil {
			return nil, fmt.Errorf("the answer is not a JSON object")
		}
		list = obj["OutputParameters"]
		if list == nil {
			return nil, nil
		}
	}
	var kvs []struct {
		Key   *string         `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(list, &kvs); err != nil {
		return nil, fmt.Errorf("OutputParameters is not a list of key/value pairs")
	}
	out := make([]Parameter, 0, len(kvs))
	for i, kv := range kvs {
		if kv.Key == nil || *kv.Key == "" {
			return nil, fmt.Errorf("OutputParameters[%d] has no key", i)
		}
		// Re-encoded, so that escapes such as \/ are plain characters again.
		var x any
		if kv.Value != nil {
			dec := json.NewDecoder(bytes.NewReader(kv.Value))
			dec.UseNumber()
			if err := dec.Decode(&x); err != nil {
				return nil, fmt.Errorf("OutputParameters[%d] has a value that is not JSON", i)
			}
		}
		v, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("OutputParameters[%d]: %v", i, err)
		}
		out = append(out, Parameter{Key: *kv.Key, Value: json.RawMessage(v)})
	}
	return out, nil
}

// apiContext builds the RemoteExecutionContext of a custom API call for a step: its parameters
// as InputParameters (with Target, the row's reference, for an entity-bound call) and, after the
// main operation, its outputs as OutputParameters.
func (h *Dispatcher) apiContext(w *Invocation, st *Step, call *APICall, output []Parameter) ([]byte, error) {
	input := []any{}
	if call.ID != "" {
		input = append(input, kv("Target", entityReference(call.Entity, call.ID)))
	}
	for _, p := range call.Input {
		input = append(input, kv(p.Key, p.Value))
	}
	out := []any{}
	if st.Stage == StagePostOperation {
		for _, p := range output {
			out = append(out, kv(p.Key, p.Value))
		}
	}
	primaryID := call.ID
	if primaryID == "" {
		primaryID = "00000000-0000-0000-0000-000000000000"
	}
	build := func(stage int, outputs []any) *wire.Object {
		o := wire.NewObject()
		o.Set("BusinessUnitId", w.BusinessUnitID)
		o.Set("CorrelationId", w.CorrelationID)
		o.Set("Depth", 1)
		o.Set("InitiatingUserId", w.RealUserID)
		o.Set("InputParameters", input)
		o.Set("IsExecutingOffline", false)
		o.Set("IsInTransaction", st.Mode == ModeSync)
		o.Set("IsOfflinePlayback", false)
		o.Set("IsolationMode", 1)
		o.Set("MessageName", call.Message)
		o.Set("Mode", st.Mode)
		o.Set("OperationCreatedOn", wcfDate(w.Now))
		o.Set("OperationId", w.OperationID)
		o.Set("OrganizationId", w.OrganizationID)
		o.Set("OrganizationName", "dynlocal")
		o.Set("OutputParameters", outputs)
		o.Set("OwningExtension", map[string]any{"Id": st.ID, "KeyAttributes": []any{}, "LogicalName": "sdkmessageprocessingstep", "Name": st.Name, "RowVersion": nil})
		return o
	}
	ctx := build(st.Stage, out)
	if st.Stage != StageMainOperation {
		parent := build(StageMainOperation, []any{})
		parent.Set("ParentContext", nil)
		parent.Set("PostEntityImages", []any{})
		parent.Set("PreEntityImages", []any{})
		parent.Set("PrimaryEntityId", primaryID)
		parent.Set("PrimaryEntityName", entityOrNone(call.Entity))
		parent.Set("RequestId", w.CorrelationID)
		parent.Set("SecondaryEntityName", "none")
		parent.Set("SharedVariables", []any{})
		parent.Set("Stage", StageMainOperation)
		parent.Set("UserId", w.UserID)
		ctx.Set("ParentContext", parent)
	} else {
		ctx.Set("ParentContext", nil)
	}
	ctx.Set("PostEntityImages", []any{})
	ctx.Set("PreEntityImages", []any{})
	ctx.Set("PrimaryEntityId", primaryID)
	ctx.Set("PrimaryEntityName", entityOrNone(call.Entity))
	ctx.Set("RequestId", nil)
	ctx.Set("SecondaryEntityName", "none")
	ctx.Set("SharedVariables", []any{})
	ctx.Set("Stage", st.Stage)
	ctx.Set("UserId", w.UserID)
	body, err := wire.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(body, []byte("/"), []byte(`\/`)), nil
}

// ContextDate writes a time as the execution context's WCF date.
func ContextDate(t time.Time) string { return wcfDate(t) }

// ContextReference writes an entity reference as the execution context does.
func ContextReference(entity, id string) map[string]any { return entityReference(entity, id) }

// ContextTyped writes a typed value (Money, OptionSetValue) as the execution context does.
func ContextTyped(typ string, value any) map[string]any {
	return map[string]any{"__type": typ + contractsNS, "Value": value}
}

// ContextEntity writes a record given as Web API JSON members as an SDK Entity of the context.
func ContextEntity(entity, id string, attrs []Parameter) map[string]any {
	list := []any{}
	for _, p := range attrs {
		list = append(list, kv(p.Key, p.Value))
	}
	return map[string]any{
		"__type": "Entity" + contractsNS, "Attributes": list, "EntityState": nil, "FormattedValues": []any{},
		"Id": id, "KeyAttributes": []any{}, "LogicalName": entity, "RelatedEntities": []any{}, "RowVersion": nil,
	}
}

// ContextEntityCollection writes a list of context entities as an SDK EntityCollection.
func ContextEntityCollection(entity string, list []any) map[string]any {
	return map[string]any{"__type": "EntityCollection" + contractsNS, "Entities": list, "EntityName": entity,
		"MinActiveRowVersion": nil, "MoreRecords": false, "PagingCookie": nil, "TotalRecordCount": -1, "TotalRecordCountLimitExceeded": false}
}
