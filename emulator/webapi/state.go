package webapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// The state and status rules every create and update follows (POST, PATCH, upsert, PUT of one
// property, and the same inside $batch change sets).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/special-update-operation-behavior

const (
	// codeInvalidStateCodeStatusCode is InvalidStateCodeStatusCode: a statuscode that does not
	// belong to the row's statecode.
	codeInvalidStateCodeStatusCode = "0x80048408"
	// codeCannotUseSetStateMessage is CannotUseOpportunitySetStateMessage: a plain create or
	// update that sets a state only a dedicated message may set.
	codeCannotUseSetStateMessage = "0x80100005"
)

// closingState is a state a table's rows enter only through a dedicated message (WinOpportunity,
// LoseOpportunity), never through a plain create or update.
type closingState struct {
	entity string
	state  int64
	// name is the state as the refusal names it, and the message to use instead.
	name string
}

// closingStates lists the documented cases: CannotUseOpportunitySetStateMessage ("This message can
// not be used to set the state of opportunity to {0}. In order to set state of opportunity to {1},
// use the {1} message instead.", rendered by the service with the lower-case state for both). Other
// tables have close messages too (incident Resolved: CloseIncident; quote Won and Closed: WinQuote,
// CloseQuote; salesorder Canceled and Fulfilled: CancelSalesOrder, FulfillSalesOrder), but their
// refusal's code and wording are not published, so they are not listed and a plain write may set
// those states here. Whether the service refuses these states on create in the same words as on
// update is not documented either; the emulator refuses both.
var closingStates = []closingState{
	{entity: "opportunity", state: 1, name: "won"},
	{entity: "opportunity", state: 2, name: "lost"},
}

// stampState keeps statecode and statuscode a valid pair, as Dataverse does:
//
//   - A create starts in the state it is given (the body's statecode only where the column is
//     valid for create: elsewhere the decoder has dropped it, as Dataverse ignores it) or in the
//     table's first state.
//   - A status given without a state must belong to the row's state: the one the create starts
//     in, or the stored one on update. It never moves the row to another state: Dataverse answers
//     "2 is not a valid status code for state code AccountState.Active on account with Id ..."
//     to a create of an account with statuscode 2, and the same to an update that gives only a
//     status of another state.
//   - A state given without a status (or with a null status) gets that state's default status.
//   - A state and a status given together must match.
//   - A plain write may not move a row into a closing state (closingStates).
//
// Unknown option values never get here: the decoder refuses them as for any choice column. id is
// the row's id (a new row's own when creating).
func (w *writer) stampState(e *model.Entity, row model.Row, id string, creating bool) error {
	sa, hasState := e.Attribute("statecode")
	ua, hasStatus := e.Attribute("statuscode")
	if !hasState || !hasStatus || !sa.Stored() || !ua.Stored() {
		return nil
	}
	rawState, stateGiven := row["statecode"]
	rawStatus, statusGiven := row["statuscode"]
	if !creating && !stateGiven && !statusGiven {
		return nil
	}
	var state int64
	switch {
	case stateGiven:
		s, ok := rawState.(int64)
		if !ok {
			return dverr.New(http.StatusBadRequest, codeInvalidStateCodeStatusCode,
				"State code is invalid or state code is valid but status code is invalid for a specified state code.")
		}
		state = s
	case creating:
		state = firstState(sa)
		row["statecode"] = state
	default:
		cur, ok, err := w.storedState(e, id)
		if err != nil || !ok {
			// A missing row is the update's own error to report.
			return err
		}
		state = cur
	}
	if status, ok := rawStatus.(int64); statusGiven && ok {
		if owner, known := statusState(ua, status); known && owner != state {
			return dverr.New(http.StatusBadRequest, codeInvalidStateCodeStatusCode,
				"%d is not a valid status code for state code %sState.%s on %s with Id %s.",
				status, e.SchemaName, stateInvariantName(sa, state), e.LogicalName, id)
		}
	} else if def, ok := defaultStatus(sa, ua, state); ok {
		row["statuscode"] = def
	}
	if stateGiven && !w.noHooks && !w.closing {
		// Fixture rows and system jobs (the writers without webhooks) may hold any state.
		return w.refuseClosingState(e, id, state, creating)
	}
	return nil
}

// refuseClosingState refuses a plain write that moves a row into a closing state. An update that
// leaves the row in the state it is already in is not a move.
func (w *writer) refuseClosingState(e *model.Entity, id string, state int64, creating bool) error {
	for _, c := range closingStates {
		if c.entity != e.LogicalName || c.state != state {
			continue
		}
		if !creating {
			cur, ok, err := w.storedState(e, id)
			if err != nil || !ok || cur == state {
				return err
			}
		}
		return dverr.New(http.StatusBadRequest, codeCannotUseSetStateMessage,
			"This message can not be used to set the state of %s to %s. In order to set state of %s to %s, use the %s message instead.",
			e.LogicalName, c.name, e.LogicalName, c.name, c.name)
	}
	return nil
}

// storedState reads the stored statecode of a row; ok is false when the row does not exist or
// has no state.
func (w *writer) storedState(e *model.Entity, id string) (int64, bool, error) {
	cur, _, err := w.tx.Get(e, id, []string{"statecode"})
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s, ok := cur["statecode"].(int64)
	return s, ok, nil
}

// firstState is the state a new row starts in when the create does not set one.
func firstState(sa *model.Attribute) int64 {
	if len(sa.Options) > 0 {
		return sa.Options[0].Value
	}
	return 0
}

// statusState returns the state a status belongs to; known is false when the status is not an
// option or its metadata names no state.
func statusState(ua *model.Attribute, status int64) (state int64, known bool) {
	for _, o := range ua.Options {
		if o.Value == status {
			return o.State, o.State >= 0
		}
	}
	return 0, false
}

// defaultStatus is the status a state takes when a write sets the state alone: the state option's
// DefaultStatus from the metadata when it names a status of that state, otherwise the first status
// of the state in metadata order (metadata without DefaultStatus, and invoice's deprecated Closed
// state, whose DefaultStatus belongs to Canceled). ok is false when the state has no status.
func defaultStatus(sa, ua *model.Attribute, state int64) (int64, bool) {
	for _, o := range sa.Options {
		if o.Value == state && o.DefaultStatus >= 0 {
			if owner, known := statusState(ua, o.DefaultStatus); known && owner == state {
				return o.DefaultStatus, true
			}
		}
	}
	for _, o := range ua.Options {
		if o.State == state {
			return o.Value, true
		}
	}
	return 0, false
}

// stateInvariantName names a state as Dataverse's messages do: the option's InvariantName, or its
// label without spaces when the metadata has none.
func stateInvariantName(sa *model.Attribute, state int64) string {
	for _, o := range sa.Options {
		if o.Value == state {
			if o.InvariantName != "" {
				return o.InvariantName
			}
			return strings.ReplaceAll(o.Label, " ", "")
		}
	}
	return ""
}
