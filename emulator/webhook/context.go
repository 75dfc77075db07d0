package webhook

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// context builds the RemoteExecutionContext JSON for a step.
func (h *Dispatcher) context(w *Invocation, st *Step, op *Operation) ([]byte, error) {
	e := op.Entity
	now := w.Now
	var target any
	if op.Message == "Delete" {
		target = entityReference(e.LogicalName, op.ID)
	} else {
		target = h.entityJSON(w, e, op.ID, op.Target, nil)
	}
	input := []any{kv("Target", target)}
	var output []any
	if op.Message == "Create" && st.Stage == StagePostOperation {
		output = append(output, kv("id", op.ID))
	}
	bulk := IsBulk(st.Message)
	if bulk {
		input, output = h.bulkParameters(w, st, op)
	}
	images := func(pre bool, row model.Row) []any {
		list := []any{}
		if row == nil || (pre && st.Stage < StagePostOperation && op.Message == "Create") {
			return list
		}
		if !pre && st.Stage != StagePostOperation {
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
		o.Set("BusinessUnitId", w.BusinessUnitID)
		o.Set("CorrelationId", w.CorrelationID)
		o.Set("Depth", 1)
		o.Set("InitiatingUserId", w.RealUserID)
		o.Set("InputParameters", input)
		o.Set("IsExecutingOffline", false)
		o.Set("IsInTransaction", st.Mode == ModeSync)
		o.Set("IsOfflinePlayback", false)
		o.Set("IsolationMode", 1)
		o.Set("MessageName", st.Message)
		o.Set("Mode", st.Mode)
		o.Set("OperationCreatedOn", wcfDate(now))
		o.Set("OperationId", w.OperationID)
		o.Set("OrganizationId", w.OrganizationID)
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
	parent.Set("PrimaryEntityId", op.primaryID())
	parent.Set("PrimaryEntityName", e.LogicalName)
	parent.Set("RequestId", w.CorrelationID)
	parent.Set("SecondaryEntityName", "none")
	parent.Set("SharedVariables", []any{})
	parent.Set("Stage", 30)
	parent.Set("UserId", w.UserID)
	ctx.Set("ParentContext", parent)
	ctx.Set("PostEntityImages", images(false, op.Post))
	if bulk {
		ctx.Set("PostEntityImagesCollection", h.imageCollections(w, st, op, false))
	}
	ctx.Set("PreEntityImages", images(true, op.Pre))
	if bulk {
		ctx.Set("PreEntityImagesCollection", h.imageCollections(w, st, op, true))
	}
	ctx.Set("PrimaryEntityId", op.primaryID())
	ctx.Set("PrimaryEntityName", e.LogicalName)
	ctx.Set("RequestId", nil)
	ctx.Set("SecondaryEntityName", "none")
	ctx.Set("SharedVariables", []any{})
	ctx.Set("Stage", st.Stage)
	ctx.Set("UserId", w.UserID)
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
func (h *Dispatcher) entityJSON(w *Invocation, e *model.Entity, id string, row model.Row, only []string) map[string]any {
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
			if f := model.FormatValue(a, v); f != "" && (a.IsChoice() || a.Type == model.TypeBoolean || a.Type == model.TypeMoney) {
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
