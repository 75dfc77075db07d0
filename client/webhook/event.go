package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stages of the event pipeline, as in Event.Stage and sdkmessageprocessingstep.stage.
const (
	StagePreValidation = 10
	StagePreOperation  = 20
	StageMainOperation = 30 // only seen in a ParentContext
	StagePostOperation = 40
)

// Execution modes, as in Event.Mode and sdkmessageprocessingstep.mode.
const (
	ModeSynchronous  = 0
	ModeAsynchronous = 1
)

// Event is a decoded RemoteExecutionContext: the body of a Dataverse webhook call (and of Service Bus
// and Event Hub messages). Key/value lists become maps, WCF dates become UTC time.Time values and
// typed values become Go types; see Decode.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/understand-the-data-context
type Event struct {
	// MessageName is the operation, such as Create, Update, Delete, Associate or a custom API name.
	MessageName string
	// PrimaryEntityName is the table's logical name ("none" for messages without a table) and
	// PrimaryEntityID the row's id.
	PrimaryEntityName   string
	PrimaryEntityID     string
	SecondaryEntityName string
	// Stage is one of the Stage constants, Mode one of the Mode constants and Depth the number of
	// nested pipeline calls that led here (1 for a direct call).
	Stage, Mode, Depth int
	IsolationMode      int
	IsInTransaction    bool
	IsExecutingOffline bool
	IsOfflinePlayback  bool
	// UserID is the user the operation runs as; InitiatingUserID the user who started it.
	UserID, InitiatingUserID, BusinessUnitID, OrganizationID, OrganizationName string
	// CorrelationID ties together every operation triggered by one request; Dataverse uses it to
	// stop infinite loops, and also sends it as x-ms-correlation-request-id.
	CorrelationID, RequestID, OperationID string
	OperationCreatedOn                    time.Time
	// OwningExtension is the registered step (sdkmessageprocessingstep) that sent the event.
	OwningExtension *EntityReference
	// InputParameters are the message's request parameters: "Target" (an *Entity for Create and
	// Update, an *EntityReference for Delete), "ColumnSet", custom API inputs, ...
	InputParameters map[string]any
	// OutputParameters are the response parameters, such as "id" after a Create (post-operation).
	OutputParameters map[string]any
	// PreEntityImages and PostEntityImages are the images registered on the step, by alias.
	PreEntityImages, PostEntityImages map[string]*Entity
	// SharedVariables are the values plug-ins passed along the pipeline.
	SharedVariables map[string]any
	// ParentContext is the context of the operation that caused this one, if any.
	ParentContext *Event
	// Target is InputParameters["Target"] when it is an entity (Create, Update); TargetReference when
	// it is a reference (Delete, Assign, ...). At most one of them is set.
	Target          *Entity
	TargetReference *EntityReference
	// SizeExceeded reports x-ms-dynamics-msg-size-exceeded: the context was over 256 KB and
	// Dataverse dropped ParentContext, InputParameters and the images from it.
	SizeExceeded bool
	// Headers are the request headers (x-ms-dynamics-organization, x-ms-dynamics-entity-name,
	// x-ms-dynamics-request-name, x-ms-correlation-request-id, ...) without the secret ones
	// configured in Auth.Headers; nil from Decode.
	Headers http.Header
	// Raw is the JSON of this context, for fields Event does not carry.
	Raw json.RawMessage
}

// Entity is a row as the SDK serialises it (Microsoft.Xrm.Sdk.Entity): a target or an image.
type Entity struct {
	LogicalName string
	ID          string
	// Attributes are the columns, decoded as in Event.InputParameters. It is never nil. A target
	// holds only the columns the operation set; a nil value is a column set to null.
	Attributes map[string]any
	// FormattedValues are the display texts of choice, money, date and lookup columns.
	FormattedValues map[string]string
	// KeyAttributes are the alternate key values the row was addressed by, if any.
	KeyAttributes map[string]any
	RowVersion    string
}

// EntityReference points at a row (Microsoft.Xrm.Sdk.EntityReference): a lookup value, or the
// target of a Delete.
type EntityReference struct {
	LogicalName string
	ID          string
	Name        string
	// KeyAttributes are the alternate key values when the reference uses one instead of ID.
	KeyAttributes map[string]any
}

// OptionSetValue is the value of a choice column.
type OptionSetValue struct{ Value int }

// Money is the value of a currency column, kept as the exact decimal text Dataverse sent (such as
// "345.678") so that no precision is lost; parse it with math/big or a decimal package.
type Money struct{ Value string }

// Decode decodes the JSON body of a webhook call (a RemoteExecutionContext, in the
// DataContract JSON format). Values are decoded as follows:
//
//   - key/value lists ([{"key":k,"value":v}, ...]) become maps;
//   - WCF dates ("\/Date(1506384247000)\/", with or without an offset such as -0700, which does
//     not change the instant) become time.Time in UTC; other strings, GUIDs included, stay strings;
//   - numbers become json.Number, keeping their exact text;
//   - values with a __type become *Entity, *EntityReference, OptionSetValue, Money or, for an
//     EntityCollection, []*Entity; other typed objects become map[string]any with the __type kept;
//   - arrays become []any, except that an array made only of option set values (a multi-select
//     choice, OptionSetValueCollection) becomes []OptionSetValue, and likewise []*EntityReference
//     (EntityReferenceCollection) and []*Entity.
//
// OperationCreatedOn also accepts an RFC 3339 date. The body must be a JSON object; the error of a
// malformed one names the offending field, such as InputParameters[0].value.Attributes[2].
func Decode(body []byte) (*Event, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	// Check the whole body first: a json.Decoder stops after the first value and accepts some
	// trailing bytes, such as the ] of {}].
	var whole json.RawMessage
	if err := json.Unmarshal(body, &whole); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			err = fmt.Errorf("at byte %d: %w", syntax.Offset, err)
		}
		return nil, fmt.Errorf("webhook: decode execution context: %w", err)
	}
	ev, err := decodeContext(body, "")
	if err != nil {
		return nil, fmt.Errorf("webhook: decode execution context: %w", err)
	}
	return ev, nil
}

func decodeContext(raw []byte, path string) (*Event, error) {
	var members map[string]json.RawMessage
	if err := decodeJSON(raw, &members); err != nil {
		if path == "" {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if members == nil {
		return nil, fmt.Errorf("%s: want an object, got null", ctxPathOrRoot(path))
	}
	f := ctxFields{members: members, path: path}
	ev := &Event{Raw: append(json.RawMessage(nil), raw...)}
	if err := f.decodeScalars(ev); err != nil {
		return nil, err
	}
	if err := f.decodeLists(ev); err != nil {
		return nil, err
	}
	switch t := ev.InputParameters["Target"].(type) {
	case *Entity:
		ev.Target = t
	case *EntityReference:
		ev.TargetReference = t
	}
	if r, ok := members["ParentContext"]; ok && !bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
		var err error
		if ev.ParentContext, err = decodeContext(r, f.at("ParentContext")); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// ctxFields are the members of one execution context, each still JSON so that an error can name
// the member it comes from; path names the context itself ("" for the outermost).
type ctxFields struct {
	members map[string]json.RawMessage
	path    string
}

func (f ctxFields) at(name string) string {
	if f.path == "" {
		return name
	}
	return f.path + "." + name
}

// value decodes a member; an absent one is nil, like null.
func (f ctxFields) value(name string) (any, error) {
	r, ok := f.members[name]
	if !ok {
		return nil, nil
	}
	var v any
	if err := decodeJSON(r, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", f.at(name), err)
	}
	return v, nil
}

// ctxField is where a member of an execution context goes.
type ctxField[T any] struct {
	name string
	dst  *T
}

// decodeFields decodes each member with conv, which names the member's path in its errors.
func decodeFields[T any](f ctxFields, conv func(v any, path string) (T, error), fields []ctxField[T]) error {
	for _, fd := range fields {
		v, err := f.value(fd.name)
		if err != nil {
			return err
		}
		if *fd.dst, err = conv(v, f.at(fd.name)); err != nil {
			return err
		}
	}
	return nil
}

// decodeScalars decodes the members that hold one value each.
func (f ctxFields) decodeScalars(ev *Event) error {
	err := decodeFields(f, ctxString, []ctxField[string]{
		{"MessageName", &ev.MessageName},
		{"PrimaryEntityName", &ev.PrimaryEntityName},
		{"PrimaryEntityId", &ev.PrimaryEntityID},
		{"SecondaryEntityName", &ev.SecondaryEntityName},
		{"UserId", &ev.UserID},
		{"InitiatingUserId", &ev.InitiatingUserID},
		{"BusinessUnitId", &ev.BusinessUnitID},
		{"OrganizationId", &ev.OrganizationID},
		{"OrganizationName", &ev.OrganizationName},
		{"CorrelationId", &ev.CorrelationID},
		{"RequestId", &ev.RequestID},
		{"OperationId", &ev.OperationID},
	})
	if err != nil {
		return err
	}
	err = decodeFields(f, ctxInt, []ctxField[int]{
		{"Stage", &ev.Stage}, {"Mode", &ev.Mode}, {"Depth", &ev.Depth}, {"IsolationMode", &ev.IsolationMode},
	})
	if err != nil {
		return err
	}
	err = decodeFields(f, ctxBool, []ctxField[bool]{
		{"IsInTransaction", &ev.IsInTransaction},
		{"IsExecutingOffline", &ev.IsExecutingOffline},
		{"IsOfflinePlayback", &ev.IsOfflinePlayback},
	})
	if err != nil {
		return err
	}
	err = decodeFields(f, ctxTime, []ctxField[time.Time]{{"OperationCreatedOn", &ev.OperationCreatedOn}})
	if err != nil {
		return err
	}
	return decodeFields(f, ctxOptionalReference, []ctxField[*EntityReference]{{"OwningExtension", &ev.OwningExtension}})
}

// decodeLists decodes the key/value lists: parameters, shared variables and images.
func (f ctxFields) decodeLists(ev *Event) error {
	err := decodeFields(f, decodeCtxValues, []ctxField[map[string]any]{
		{"InputParameters", &ev.InputParameters},
		{"OutputParameters", &ev.OutputParameters},
		{"SharedVariables", &ev.SharedVariables},
	})
	if err != nil {
		return err
	}
	return decodeFields(f, decodeImages, []ctxField[map[string]*Entity]{
		{"PreEntityImages", &ev.PreEntityImages},
		{"PostEntityImages", &ev.PostEntityImages},
	})
}

func ctxOptionalReference(v any, path string) (*EntityReference, error) {
	if v == nil {
		return nil, nil
	}
	return decodeEntityReference(v, path)
}

// decodeImages turns a key/value list of images into a map, nil when the list is empty. A null
// image is left out.
func decodeImages(v any, path string) (map[string]*Entity, error) {
	var out map[string]*Entity
	err := eachKeyValue(v, path, func(key string, val any, p string) error {
		if val == nil {
			return nil
		}
		e, err := decodeEntity(val, p)
		if err != nil {
			return err
		}
		if out == nil {
			out = map[string]*Entity{}
		}
		out[key] = e
		return nil
	})
	return out, err
}

func ctxPathOrRoot(path string) string {
	if path == "" {
		return "execution context"
	}
	return path
}

func ctxString(v any, path string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf("%s: want a string, got %s", path, ctxKind(v))
}

func ctxInt(v any, path string) (int, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := strconv.ParseInt(x.String(), 10, 0)
		if err != nil {
			return 0, fmt.Errorf("%s: want an integer, got %s", path, x)
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("%s: want an integer, got %s", path, ctxKind(v))
}

func ctxBool(v any, path string) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, fmt.Errorf("%s: want true or false, got %s", path, ctxKind(v))
}

func ctxTime(v any, path string) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case string:
		if x == "" {
			return time.Time{}, nil
		}
		if t, ok := parseWCFDate(x); ok {
			return t, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("%s: %q is not a date", path, x)
	}
	return time.Time{}, fmt.Errorf("%s: want a date, got %s", path, ctxKind(v))
}

// wcfDate matches a WCF DataContract date once JSON has unescaped it: /Date(ms)/ or
// /Date(ms+hhmm)/. The milliseconds count from the Unix epoch in UTC; the offset only records the
// time zone of the server that wrote it.
var wcfDate = regexp.MustCompile(`^/Date\((-?[0-9]{1,19})(?:[+-][0-9]{4})?\)/$`)

func parseWCFDate(s string) (time.Time, bool) {
	if !strings.HasPrefix(s, "/Date(") {
		return time.Time{}, false
	}
	m := wcfDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

func ctxKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// eachKeyValue walks a DataContract key/value list. null and an absent list are empty.
func eachKeyValue(v any, path string, f func(key string, val any, path string) error) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: want a key/value list, got %s", path, ctxKind(v))
	}
	for i, it := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		pair, ok := it.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a {\"key\":...,\"value\":...} object, got %s", p, ctxKind(it))
		}
		k, hasKey := pair["key"]
		if !hasKey {
			k = pair["Key"]
		}
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s: want a string key, got %s", p, ctxKind(k))
		}
		val, hasValue := pair["value"]
		if !hasValue {
			val = pair["Value"]
		}
		if err := f(key, val, p+".value"); err != nil {
			return err
		}
	}
	return nil
}

// decodeCtxValues turns a key/value list of values into a map, nil when the list is empty.
func decodeCtxValues(v any, path string) (map[string]any, error) {
	var out map[string]any
	err := eachKeyValue(v, path, func(key string, val any, p string) error {
		d, err := decodeCtxValue(val, p)
		if err != nil {
			return err
		}
		if out == nil {
			out = map[string]any{}
		}
		out[key] = d
		return nil
	})
	return out, err
}

// contractType returns the name part of a DataContract __type such as
// "Entity:http://schemas.microsoft.com/xrm/2011/Contracts".
func contractType(obj map[string]any) string {
	t, _ := obj["__type"].(string)
	name, _, _ := strings.Cut(t, ":")
	return name
}

func decodeCtxValue(v any, path string) (any, error) {
	switch x := v.(type) {
	case string:
		if t, ok := parseWCFDate(x); ok {
			return t, nil
		}
		return x, nil
	case []any:
		return decodeCtxArray(x, path)
	case map[string]any:
		return decodeCtxObject(x, path)
	}
	return v, nil // nil, bool, json.Number
}

func decodeCtxArray(list []any, path string) (any, error) {
	out := make([]any, len(list))
	var options, refs, entities int
	for i, it := range list {
		d, err := decodeCtxValue(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		switch d.(type) {
		case OptionSetValue:
			options++
		case *EntityReference:
			refs++
		case *Entity:
			entities++
		}
		out[i] = d
	}
	switch n := len(out); {
	case n == 0:
		return out, nil
	case options == n:
		return ctxSlice[OptionSetValue](out), nil
	case refs == n:
		return ctxSlice[*EntityReference](out), nil
	case entities == n:
		return ctxSlice[*Entity](out), nil
	}
	return out, nil
}

func ctxSlice[T any](list []any) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = v.(T)
	}
	return out
}

func decodeCtxObject(obj map[string]any, path string) (any, error) {
	switch contractType(obj) {
	case "Entity":
		return decodeEntity(obj, path)
	case "EntityReference":
		return decodeEntityReference(obj, path)
	case "OptionSetValue":
		n, err := ctxInt(obj["Value"], path+".Value")
		if err != nil {
			return nil, err
		}
		return OptionSetValue{Value: n}, nil
	case "Money":
		n, ok := obj["Value"].(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s.Value: want a number, got %s", path, ctxKind(obj["Value"]))
		}
		return Money{Value: n.String()}, nil
	case "EntityCollection":
		list, ok := obj["Entities"].([]any)
		if !ok && obj["Entities"] != nil {
			return nil, fmt.Errorf("%s.Entities: want an array, got %s", path, ctxKind(obj["Entities"]))
		}
		out := make([]*Entity, 0, len(list))
		for i, it := range list {
			e, err := decodeEntity(it, fmt.Sprintf("%s.Entities[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	out := make(map[string]any, len(obj))
	for k, it := range obj {
		d, err := decodeCtxValue(it, path+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = d
	}
	return out, nil
}

func decodeEntity(v any, path string) (*Entity, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an entity object, got %s", path, ctxKind(v))
	}
	e := &Entity{}
	var err error
	if e.LogicalName, err = ctxString(obj["LogicalName"], path+".LogicalName"); err != nil {
		return nil, err
	}
	if e.ID, err = ctxString(obj["Id"], path+".Id"); err != nil {
		return nil, err
	}
	if e.RowVersion, err = ctxString(obj["RowVersion"], path+".RowVersion"); err != nil {
		return nil, err
	}
	if e.Attributes, err = decodeCtxValues(obj["Attributes"], path+".Attributes"); err != nil {
		return nil, err
	}
	if e.Attributes == nil {
		e.Attributes = map[string]any{}
	}
	if e.KeyAttributes, err = decodeCtxValues(obj["KeyAttributes"], path+".KeyAttributes"); err != nil {
		return nil, err
	}
	err = eachKeyValue(obj["FormattedValues"], path+".FormattedValues", func(key string, val any, p string) error {
		s, err := ctxString(val, p)
		if err != nil {
			return err
		}
		if e.FormattedValues == nil {
			e.FormattedValues = map[string]string{}
		}
		e.FormattedValues[key] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func decodeEntityReference(v any, path string) (*EntityReference, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an entity reference object, got %s", path, ctxKind(v))
	}
	r := &EntityReference{}
	var err error
	if r.LogicalName, err = ctxString(obj["LogicalName"], path+".LogicalName"); err != nil {
		return nil, err
	}
	if r.ID, err = ctxString(obj["Id"], path+".Id"); err != nil {
		return nil, err
	}
	if r.Name, err = ctxString(obj["Name"], path+".Name"); err != nil {
		return nil, err
	}
	if r.KeyAttributes, err = decodeCtxValues(obj["KeyAttributes"], path+".KeyAttributes"); err != nil {
		return nil, err
	}
	return r, nil
}

var utf8BOM = []byte("\ufeff")

// decodeJSON decodes a body with UseNumber, so numbers keep their exact text, and refuses anything
// but white space after the value.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}
