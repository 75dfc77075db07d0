package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OperationHandler implements a custom API's main operation: it gets the call's event (the
// request parameters in InputParameters, Target for an entity-bound call) and returns the output
// parameters by name.
type OperationHandler func(ctx context.Context, ev *Event) (map[string]any, error)

// OperationError is an error whose message goes back to Dataverse's caller, as the message of a
// plug-in's InvalidPluginExecutionException does. Other handler errors stay on the receiver's
// side.
type OperationError struct {
	Message string
}

// Error returns the message.
func (e *OperationError) Error() string { return e.Message }

// NewOperationReceiver returns a receiver for the step that implements a custom API's main
// operation (a synchronous step at stage 30 of the custom API's message, which the dynlocal
// emulator calls in place of the plug-in Dataverse would run). It authenticates and decodes
// requests as NewReceiver does, then answers 200 with the handler's outputs as the execution
// context writes its OutputParameters:
//
//	{"OutputParameters":[{"key":"Name","value":...}, ...]}
//
// Values are written in the context's DataContract form (see EncodeOutputParameters). An
// *OperationError from handle is answered with 400 and {"message": ...}, which fails the call
// with that message; any other error (or a panic) is a 500, as with NewReceiver. The handler runs
// while the call waits, so WithAsyncHandling does not apply.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/custom-api
func NewOperationReceiver(auth Auth, handle OperationHandler, opts ...Option) *Receiver {
	wr := NewReceiver(auth, nil, opts...)
	wr.slots = nil
	wr.operation = handle
	if wr.operation == nil {
		wr.operation = func(context.Context, *Event) (map[string]any, error) { return nil, nil }
	}
	return wr
}

// serveOperation runs an operation handler and writes its answer.
func (wr *Receiver) serveOperation(w http.ResponseWriter, ctx context.Context, ev *Event) {
	out, err := wr.callOperation(ctx, ev)
	var body []byte
	if err == nil {
		body, err = EncodeOutputParameters(out)
		if err != nil {
			wr.onError(ctx, ev, err)
		}
	}
	var opErr *OperationError
	switch {
	case errors.As(err, &opErr):
		msg, _ := json.Marshal(map[string]string{"message": opErr.Message})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(msg)
	case err != nil:
		http.Error(w, "event handler failed", http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
}

// callOperation runs the operation handler, turning a panic into an error, and reports failures
// to the error handler.
func (wr *Receiver) callOperation(ctx context.Context, ev *Event) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("webhook: handler panicked: %v", p)
		}
		if err != nil {
			wr.onError(ctx, ev, err)
		}
	}()
	return wr.operation(ctx, ev)
}

const contractsNS = ":http://schemas.microsoft.com/xrm/2011/Contracts"

// EncodeOutputParameters writes output parameters as the JSON answer of a custom API's main
// operation: {"OutputParameters":[{"key":k,"value":v}, ...]}, keys sorted. Values take the types
// Decode gives: string, bool, numbers (json.Number included), time.Time (a WCF date), []string,
// OptionSetValue, Money, *EntityReference, *Entity and []*Entity (an EntityCollection); nil is
// null. A value of another type is an error.
func EncodeOutputParameters(out map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]any, 0, len(keys))
	for _, k := range keys {
		v, err := contextJSON(out[k])
		if err != nil {
			return nil, fmt.Errorf("webhook: output parameter %s: %w", k, err)
		}
		list = append(list, map[string]any{"key": k, "value": v})
	}
	return json.Marshal(map[string]any{"OutputParameters": list})
}

// contextJSON converts a Go value to its DataContract JSON form.
func contextJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, json.Number, int, int32, int64:
		return x, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, errors.New("not a finite number")
		}
		return x, nil
	case float32:
		return float64(x), nil
	case time.Time:
		return "/Date(" + strconv.FormatInt(x.UnixMilli(), 10) + ")/", nil
	case []string:
		return x, nil
	case OptionSetValue:
		return map[string]any{"__type": "OptionSetValue" + contractsNS, "Value": x.Value}, nil
	case Money:
		if _, err := strconv.ParseFloat(strings.TrimSpace(x.Value), 64); err != nil {
			return nil, fmt.Errorf("money value %q is not a number", x.Value)
		}
		return map[string]any{"__type": "Money" + contractsNS, "Value": json.Number(strings.TrimSpace(x.Value))}, nil
	case *EntityReference:
		if x == nil {
			return nil, nil
		}
		return map[string]any{"__type": "EntityReference" + contractsNS, "Id": x.ID, "KeyAttributes": []any{},
			"LogicalName": x.LogicalName, "Name": nilIfEmpty(x.Name), "RowVersion": nil}, nil
	case *Entity:
		if x == nil {
			return nil, nil
		}
		return entityJSON(x)
	case []*Entity:
		list := make([]any, 0, len(x))
		name := ""
		for _, e := range x {
			j, err := entityJSON(e)
			if err != nil {
				return nil, err
			}
			if e != nil && name == "" {
				name = e.LogicalName
			}
			list = append(list, j)
		}
		return map[string]any{"__type": "EntityCollection" + contractsNS, "Entities": list, "EntityName": name,
			"MoreRecords": false, "PagingCookie": nil, "TotalRecordCount": -1}, nil
	}
	return nil, fmt.Errorf("type %T has no execution context form", v)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func entityJSON(e *Entity) (any, error) {
	if e == nil {
		return nil, errors.New("nil entity")
	}
	keys := make([]string, 0, len(e.Attributes))
	for k := range e.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, len(keys))
	for _, k := range keys {
		v, err := contextJSON(e.Attributes[k])
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		attrs = append(attrs, map[string]any{"key": k, "value": v})
	}
	id := e.ID
	if id == "" {
		id = "00000000-0000-0000-0000-000000000000"
	}
	return map[string]any{"__type": "Entity" + contractsNS, "Attributes": attrs, "EntityState": nil, "FormattedValues": []any{},
		"Id": id, "KeyAttributes": []any{}, "LogicalName": e.LogicalName, "RelatedEntities": []any{}, "RowVersion": nil}, nil
}
