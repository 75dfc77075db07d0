package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Team membership, queues, sending email and bulk deletion: AddMembersTeam, RemoveMembersTeam,
// AddToQueue, RemoveFromQueue, SendEmail and BulkDelete, each with the parameters and return type
// of its Web API reference page.

// Error codes of these operations, from Dataverse's web service error code list.
const (
	// codeCannotAddMembersToDefaultTeam is CannotAddMembersToDefaultTeam.
	codeCannotAddMembersToDefaultTeam = "0x8004830B"
	// codeCannotRemoveMembersFromDefaultTeam is CannotRemoveMembersFromDefaultTeam.
	codeCannotRemoveMembersFromDefaultTeam = "0x8004830C"
	// codeCannotAddQueueItemsToInactiveQueue is CannotAddQueueItemsToInactiveQueue.
	codeCannotAddQueueItemsToInactiveQueue = "0x80040522"
	// codeCannotCreateQueueItemInactiveObject is CannotCreateQueueItemInactiveObject.
	codeCannotCreateQueueItemInactiveObject = "0x8004051e"
	// codeCannotUpdateObjectBecauseItIsInactive is CannotUpdateObjectBecauseItIsInactive. SendEmail
	// of an email that is no longer open is refused with it; the service's own code for that case
	// is not published, so this closest documented one stands in.
	codeCannotUpdateObjectBecauseItIsInactive = "0x80040230"
)

// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/addmembersteam
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/removemembersteam
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/addtoqueue
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/removefromqueue
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/sendemail
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/bulkdelete
func init() {
	registerBuiltin(
		&Operation{Name: "AddMembersTeam", Kind: Action, Binding: BoundEntity, Entity: "team",
			Params: []Param{{Name: "Members", Type: "Collection(mscrm.systemuser)"}},
			Serve: func(s *Handler, req *Request, a *Args) (*wire.Response, error) {
				return s.changeTeamMembers(req, a, true)
			}},
		&Operation{Name: "RemoveMembersTeam", Kind: Action, Binding: BoundEntity, Entity: "team",
			Params: []Param{{Name: "Members", Type: "Collection(mscrm.systemuser)"}},
			Serve: func(s *Handler, req *Request, a *Args) (*wire.Response, error) {
				return s.changeTeamMembers(req, a, false)
			}},
		&Operation{Name: "AddToQueue", Kind: Action, Binding: BoundEntity, Entity: "queue",
			Params: []Param{
				{Name: "Target", Type: "mscrm.crmbaseentity"},
				{Name: "SourceQueue", Type: "mscrm.queue", Optional: true},
				{Name: "QueueItemProperties", Type: "mscrm.queueitem", Optional: true},
			},
			Returns:  "mscrm.AddToQueueResponse",
			Response: []Param{{Name: "QueueItemId", Type: "Edm.Guid"}},
			Serve:    (*Handler).addToQueue},
		&Operation{Name: "RemoveFromQueue", Kind: Action, Binding: BoundEntity, Entity: "queueitem",
			Serve: (*Handler).removeFromQueue},
		&Operation{Name: "SendEmail", Kind: Action, Binding: BoundEntity, Entity: "email",
			Params: []Param{
				{Name: "IssueSend", Type: "Edm.Boolean"},
				{Name: "TrackingToken", Type: "Edm.String", Optional: true},
			},
			Returns:  "mscrm.SendEmailResponse",
			Response: []Param{{Name: "Subject", Type: "Edm.String"}},
			Serve:    (*Handler).sendEmail},
		&Operation{Name: "BulkDelete", Kind: Action,
			// The reference marks every parameter but SourceImportId and RunNow as not nullable.
			Params: []Param{
				{Name: "QuerySet", Type: "Collection(mscrm.QueryExpression)"},
				{Name: "JobName", Type: "Edm.String"},
				{Name: "SendEmailNotification", Type: "Edm.Boolean"},
				{Name: "ToRecipients", Type: "Collection(mscrm.activityparty)"},
				{Name: "CCRecipients", Type: "Collection(mscrm.activityparty)"},
				{Name: "RecurrencePattern", Type: "Edm.String"},
				{Name: "StartDateTime", Type: "Edm.DateTimeOffset"},
				{Name: "SourceImportId", Type: "Edm.Guid", Optional: true},
				{Name: "RunNow", Type: "Edm.Boolean", Optional: true},
			},
			Returns:  "mscrm.BulkDeleteResponse",
			Response: []Param{{Name: "JobId", Type: "Edm.Guid"}},
			Serve:    (*Handler).bulkDelete},
	)
}

// schemaEntity returns a table of the schema, or a 400 naming it when the fixtures lack it.
func schemaEntity(tx *store.Tx, name string) (*model.Entity, error) {
	e, ok := tx.Schema().Entity(name)
	if !ok {
		return nil, dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "The table '%s' this operation needs is not defined in the emulator's fixtures.", name)
	}
	return e, nil
}

// recordParam reads an entity-typed parameter value: a JSON object whose primary key names the
// row and whose @odata.type, when given, names its table. want is the table the parameter is
// typed with; "" accepts any table the @odata.type names (mscrm.crmbaseentity).
func recordParam(tx *store.Tx, param string, v any, want string) (*model.Entity, string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "", errParam("The parameter '%s' must be an entity object.", param)
	}
	name := want
	if t, ok := obj["@odata.type"].(string); ok {
		t = strings.TrimPrefix(strings.TrimPrefix(t, "#"), crmNamespace)
		if want != "" && t != want {
			return nil, "", errParam("The parameter '%s' must be of type 'Microsoft.Dynamics.CRM.%s', not '%s'.", param, want, t)
		}
		name = t
	}
	if name == "" {
		return nil, "", errParam("The entity of the parameter '%s' must name its type with '@odata.type'.", param)
	}
	e, ok := tx.Schema().Entity(name)
	if !ok {
		return nil, "", errParam("The type 'Microsoft.Dynamics.CRM.%s' of the parameter '%s' is not an entity type.", name, param)
	}
	id, _ := obj[e.PrimaryIDAttribute].(string)
	if !model.IsGUID(id) {
		return nil, "", errParam("The entity of the parameter '%s' must give its primary key '%s' as a GUID.", param, e.PrimaryIDAttribute)
	}
	return e, strings.ToLower(id), nil
}

// rowState reads a row's statecode; ok is false when the table has none.
func rowState(tx *store.Tx, e *model.Entity, id string) (int64, bool, error) {
	if !has(e, "statecode") {
		return 0, false, nil
	}
	row, _, err := tx.Get(e, id, []string{"statecode"})
	if err != nil {
		return 0, false, mapStoreErr(err, e, id)
	}
	s, ok := row["statecode"].(int64)
	return s, ok, nil
}

// changeTeamMembers serves AddMembersTeam and RemoveMembersTeam: each member's
// teammembership_association link to the team is added or removed. Every member is checked
// before anything is written. Adding a user who is already a member, or removing one who is not,
// changes nothing: the reference documents no error for either, so the call succeeds.
func (s *Handler) changeTeamMembers(req *Request, a *Args, add bool) (*wire.Response, error) {
	members, _ := a.Values["Members"].([]any)
	err := s.InTx(req, true, func(tx *store.Tx) error {
		users, err := schemaEntity(tx, "systemuser")
		if err != nil {
			return err
		}
		rel, ok := tx.Schema().Relationship("teammembership_association")
		if !ok {
			return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "The relationship 'teammembership_association' is not defined in the emulator's fixtures.")
		}
		team, _, err := tx.Get(a.Entity, a.ID, []string{"isdefault"})
		if err != nil {
			return mapStoreErr(err, a.Entity, a.ID)
		}
		// The default team of a business unit holds every user of the unit; its members are not
		// changed by these messages.
		if isDefault, _ := team["isdefault"].(bool); isDefault {
			if add {
				return dverr.New(http.StatusBadRequest, codeCannotAddMembersToDefaultTeam, "Can't add members to the default business unit team (TeamId = %s).", a.ID)
			}
			return dverr.New(http.StatusBadRequest, codeCannotRemoveMembersFromDefaultTeam, "Can't remove members from the default business unit team (TeamId = %s).", a.ID)
		}
		ids := make([]string, 0, len(members))
		seen := map[string]bool{}
		for _, m := range members {
			_, id, err := recordParam(tx, "Members", m, "systemuser")
			if err != nil {
				return err
			}
			if ok, err := tx.Exists(users, id); err != nil {
				return err
			} else if !ok {
				return dverr.RecordNotFound("systemuser", id)
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		current, err := tx.Linked(rel, "team", a.ID)
		if err != nil {
			return err
		}
		isMember := map[string]bool{}
		for _, id := range current {
			isMember[id] = true
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		w.forgetRemembered(a.Entity)
		for _, id := range ids {
			id1, id2 := id, a.ID
			if rel.Entity1 != "systemuser" {
				id1, id2 = a.ID, id
			}
			switch {
			case add && !isMember[id]:
				if err := tx.Associate(rel, id1, id2, w.newID()); err != nil {
					return err
				}
			case !add && isMember[id]:
				if err := tx.Disassociate(rel, id1, id2); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// addToQueue serves AddToQueue: the target row gets a queue item in the bound queue. With
// SourceQueue, the target's item in that queue moves to this one. Without it, an item the target
// already has in this queue is answered as it is, and an active item it has in another queue
// moves here: Dataverse keeps one queue item per record unless a table allows several, which the
// emulator's fixtures never do. QueueItemProperties gives columns of a new item (its queueid and
// objectid are ignored, as documented).
func (s *Handler) addToQueue(req *Request, a *Args) (*wire.Response, error) {
	var itemID string
	err := s.InTx(req, true, func(tx *store.Tx) error {
		items, err := schemaEntity(tx, "queueitem")
		if err != nil {
			return err
		}
		target, targetID, err := recordParam(tx, "Target", a.Values["Target"], "")
		if err != nil {
			return err
		}
		objAttr, ok := items.Attribute("objectid")
		if !ok || !containsString(objAttr.Targets, target.LogicalName) || target.LogicalName == store.ActivityPointer {
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The entity '%s' is not enabled for queues.", target.LogicalName)
		}
		if ok, err := tx.Exists(target, targetID); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(target.LogicalName, targetID)
		}
		if st, ok, err := rowState(tx, a.Entity, a.ID); err != nil {
			return err
		} else if ok && st != 0 {
			return dverr.New(http.StatusBadRequest, codeCannotAddQueueItemsToInactiveQueue, "The selected user does not have sufficient permissions to work on items in this queue.")
		}
		if st, ok, err := rowState(tx, target, targetID); err != nil {
			return err
		} else if ok && st != 0 {
			return dverr.New(http.StatusBadRequest, codeCannotCreateQueueItemInactiveObject, "Deactivated object cannot be added to queue.")
		}
		var source string
		if v := a.Values["SourceQueue"]; v != nil {
			_, source, err = recordParam(tx, "SourceQueue", v, "queue")
			if err != nil {
				return err
			}
			if source == a.ID {
				return dverr.New(http.StatusBadRequest, "0x8004051b", "The queue item cannot be routed to the same queue")
			}
		}
		var props model.Row
		if v := a.Values["QueueItemProperties"]; v != nil {
			obj, ok := v.(map[string]any)
			if !ok {
				return errParam("The parameter 'QueueItemProperties' must be an entity object.")
			}
			raw, err := json.Marshal(obj)
			if err != nil {
				return errParam("The parameter 'QueueItemProperties' cannot be read.")
			}
			body, err := ParseObject(raw, items.EntitySetName)
			if err != nil {
				return err
			}
			plan, err := s.decoderFor(req, tx).decodeRecord(items, body, opCreate)
			if err != nil {
				return err
			}
			if len(plan.Single) > 0 || len(plan.Children) > 0 || len(plan.Binds) > 0 {
				return errParam("The parameter 'QueueItemProperties' cannot create related records.")
			}
			props = plan.Row
			delete(props, "queueid")
			delete(props, "objectid")
			delete(props, items.PrimaryIDAttribute)
		}
		existing, err := queueItemsOf(tx, items, target, targetID)
		if err != nil {
			return err
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		queueRef := model.Lookup{ID: a.ID, Entity: "queue"}
		var move string
		for _, it := range existing {
			switch {
			case source != "" && it.queue == source:
				move = it.id
			case source == "" && it.queue == a.ID:
				itemID = it.id
				return nil
			case source == "" && it.active && move == "":
				move = it.id
			}
		}
		if source != "" && move == "" {
			return dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "The %s with Id = %s is not in the queue with Id = %s.", target.LogicalName, targetID, source)
		}
		if move != "" {
			row := model.Row{"queueid": queueRef}
			for k, v := range props {
				row[k] = v
			}
			itemID = move
			return w.update(&writePlan{Entity: items, Row: row}, move)
		}
		row := model.Row{"queueid": queueRef, "objectid": model.Lookup{ID: targetID, Entity: target.LogicalName}}
		if _, ok := props["title"]; !ok && target.PrimaryNameAttribute != "" {
			if r, _, err := tx.Get(target, targetID, []string{target.PrimaryNameAttribute}); err == nil {
				if t, ok := r[target.PrimaryNameAttribute].(string); ok && has(items, "title") {
					row["title"] = t
				}
			}
		}
		if has(items, "enteredon") {
			row["enteredon"] = w.now
		}
		for k, v := range props {
			row[k] = v
		}
		itemID, err = w.create(&writePlan{Entity: items, Row: row})
		return err
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("QueueItemId", itemID)
	return OperationResponse(req, "mscrm.AddToQueueResponse", body), nil
}

// queuedItem is a queue item of a record: its id, its queue and whether it is active.
type queuedItem struct {
	id, queue string
	active    bool
}

// queueItemsOf lists the queue items whose objectid is the given row.
func queueItemsOf(tx *store.Tx, items *model.Entity, target *model.Entity, id string) ([]queuedItem, error) {
	ids, err := tx.Referencing(items, "objectid", id)
	if err != nil {
		return nil, err
	}
	var out []queuedItem
	for _, iid := range ids {
		row, _, err := tx.Get(items, iid, []string{"queueid", "objectid", "statecode"})
		if err != nil {
			return nil, err
		}
		if l, ok := row["objectid"].(model.Lookup); ok && l.Entity != "" && l.Entity != target.LogicalName {
			continue
		}
		q, _ := row["queueid"].(model.Lookup)
		st, _ := row["statecode"].(int64)
		out = append(out, queuedItem{id: iid, queue: q.ID, active: st == 0})
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// removeFromQueue serves RemoveFromQueue: the bound queue item is deleted, through the delete
// path (webhook steps included).
func (s *Handler) removeFromQueue(req *Request, a *Args) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		return s.newWriter(req.Ctx, tx, req.Caller).delete(a.Entity, a.ID)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// SentEmail is an email SendEmail delivered (to nowhere: nothing leaves the machine), as
// GET /_emulator/emails lists it.
type SentEmail struct {
	EmailID       string       `json:"emailId"`
	Subject       string       `json:"subject"`
	Description   string       `json:"description,omitempty"`
	From          []EmailParty `json:"from"`
	To            []EmailParty `json:"to"`
	CC            []EmailParty `json:"cc"`
	BCC           []EmailParty `json:"bcc"`
	TrackingToken string       `json:"trackingToken,omitempty"`
	SentOn        time.Time    `json:"sentOn"`
	// UserID is the user the call acted as.
	UserID string `json:"userId"`
}

// EmailParty is a sender or recipient of a sent email: the row it names and the address used.
type EmailParty struct {
	Entity  string `json:"entity,omitempty"`
	ID      string `json:"id,omitempty"`
	Address string `json:"address,omitempty"`
}

// maxSentEmails bounds the emails a Handler remembers; older ones are dropped first.
const maxSentEmails = 1000

// outbox is the emails one Handler has sent.
type outbox struct {
	mu   sync.Mutex
	list []SentEmail
}

// outboxes holds each Handler's outbox, so that the Handler type itself stays as it is.
var outboxes sync.Map // *Handler → *outbox

func (s *Handler) outbox() *outbox {
	ob, _ := outboxes.LoadOrStore(s, &outbox{})
	return ob.(*outbox)
}

// SentEmails returns the emails SendEmail has sent through this Handler, oldest first.
func (s *Handler) SentEmails() []SentEmail {
	ob := s.outbox()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return append([]SentEmail{}, ob.list...)
}

// ClearSentEmails forgets the emails sent so far.
func (s *Handler) ClearSentEmails() {
	ob := s.outbox()
	ob.mu.Lock()
	ob.list = nil
	ob.mu.Unlock()
}

// sendEmail serves SendEmail. The email must be open (a draft). IssueSend true sends it: the
// emulator delivers at once, so the email becomes Completed/Sent (Dataverse shows Pending Send
// until server-side synchronization delivers it) and is recorded in the outbox once the
// transaction commits. IssueSend false only marks it as sent (Completed/Sent), as the reference
// describes, and records nothing. A TrackingToken is kept in the email's trackingtoken column.
// The answer's Subject is the email's subject.
func (s *Handler) sendEmail(req *Request, a *Args) (*wire.Response, error) {
	issue := a.Bool("IssueSend")
	token := a.String("TrackingToken")
	var subject string
	err := s.InTx(req, true, func(tx *store.Tx) error {
		e := a.Entity
		row, _, err := tx.Get(e, a.ID, []string{"subject", "description", "statecode"})
		if err != nil {
			return mapStoreErr(err, e, a.ID)
		}
		if st, ok := row["statecode"].(int64); ok && st != 0 {
			return dverr.New(http.StatusBadRequest, codeCannotUpdateObjectBecauseItIsInactive, "The object cannot be updated because it is inactive.")
		}
		subject, _ = row["subject"].(string)
		w := s.newWriter(req.Ctx, tx, req.Caller)
		change := model.Row{"statecode": int64(1), "statuscode": int64(3)}
		if has(e, "senton") {
			change["senton"] = w.now
		}
		if token != "" && has(e, "trackingtoken") {
			change["trackingtoken"] = token
		}
		if err := w.update(&writePlan{Entity: e, Row: change}, a.ID); err != nil {
			return err
		}
		if !issue {
			return nil
		}
		sent := SentEmail{EmailID: a.ID, Subject: subject, TrackingToken: token, SentOn: w.now, UserID: req.Caller.UserID,
			From: []EmailParty{}, To: []EmailParty{}, CC: []EmailParty{}, BCC: []EmailParty{}}
		sent.Description, _ = row["description"].(string)
		if err := emailParties(tx, a.ID, &sent); err != nil {
			return err
		}
		ob := s.outbox()
		tx.OnCommit(func() {
			ob.mu.Lock()
			defer ob.mu.Unlock()
			ob.list = append(ob.list, sent)
			if n := len(ob.list) - maxSentEmails; n > 0 {
				ob.list = append([]SentEmail(nil), ob.list[n:]...)
			}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("Subject", subject)
	return OperationResponse(req, "mscrm.SendEmailResponse", body), nil
}

// emailParties reads the email's activity parties into the sender and recipient lists, by their
// participation type (1 sender, 2 to, 3 cc, 4 bcc).
func emailParties(tx *store.Tx, id string, sent *SentEmail) error {
	parties, ok := tx.Schema().Entity("activityparty")
	if !ok {
		return nil
	}
	ids, err := tx.Referencing(parties, "activityid", id)
	if err != nil {
		return err
	}
	for _, pid := range ids {
		row, _, err := tx.Get(parties, pid, []string{"partyid", "addressused", "participationtypemask"})
		if err != nil {
			return err
		}
		p := EmailParty{}
		if l, ok := row["partyid"].(model.Lookup); ok {
			p.Entity, p.ID = l.Entity, l.ID
		}
		p.Address, _ = row["addressused"].(string)
		mask, _ := row["participationtypemask"].(int64)
		switch mask {
		case 1:
			sent.From = append(sent.From, p)
		case 2:
			sent.To = append(sent.To, p)
		case 3:
			sent.CC = append(sent.CC, p)
		case 4:
			sent.BCC = append(sent.BCC, p)
		}
	}
	return nil
}

// bulkDelete serves BulkDelete. Dataverse queues a system job; the emulator runs it at once, in
// the call: the job is an asyncoperation row (operationtype 13, Bulk Delete) that is already
// completed when the call answers with its id. Every query of QuerySet is read before anything is
// deleted, so a query the emulator cannot run fails the call and writes nothing. The rows the
// queries match are deleted through the delete path (cascades and webhook steps apply). If a row
// cannot be deleted, every deletion of the job is undone and the job is recorded as Failed with
// the error (outside a $batch change set; inside one, the error fails the change set).
//
// The fixtures have no bulkdeleteoperation table, so the job's success and failure counts are
// kept in the job's data column as {"SuccessCount":n,"FailureCount":m}. StartDateTime and
// RecurrencePattern are recorded on the job (recurrencestarttime, recurrencepattern) but the job
// runs once, now; SendEmailNotification sends nothing.
func (s *Handler) bulkDelete(req *Request, a *Args) (*wire.Response, error) {
	queries, _ := a.Values["QuerySet"].([]any)
	if len(queries) == 0 {
		return nil, errParam("The parameter 'QuerySet' must hold at least one query.")
	}
	start, _ := time.Parse(time.RFC3339, a.String("StartDateTime"))
	jobID := s.cfg.NewID()
	job := func(w *writer, tables []string, deleted int, failure error) model.Row {
		row := model.Row{
			"asyncoperationid":    jobID,
			"name":                a.String("JobName"),
			"operationtype":       int64(13),
			"statecode":           int64(3),
			"statuscode":          int64(30),
			"startedon":           w.now,
			"completedon":         w.now,
			"recurrencestarttime": start.UTC().Truncate(time.Second),
		}
		if p := a.String("RecurrencePattern"); p != "" {
			row["recurrencepattern"] = p
		}
		if len(tables) == 1 {
			row["primaryentitytype"] = tables[0]
		}
		failed := 0
		if failure != nil {
			failed = 1
			row["statuscode"] = int64(31)
			msg := failure.Error()
			if de, ok := dverr.As(failure); ok {
				msg = de.Message
			}
			row["message"] = msg
			row["friendlymessage"] = msg
		}
		counts, _ := json.Marshal(map[string]int{"SuccessCount": deleted, "FailureCount": failed})
		row["data"] = string(counts)
		e, _ := w.tx.Schema().Entity("asyncoperation")
		for k := range row {
			if !has(e, k) {
				delete(row, k)
			}
		}
		return row
	}
	var tables []string
	var deleteErr error
	err := s.InTx(req, true, func(tx *store.Tx) error {
		tables, deleteErr = nil, nil // a run made again (InTx) starts over
		jobs, err := schemaEntity(tx, "asyncoperation")
		if err != nil {
			return err
		}
		type target struct {
			e   *model.Entity
			ids []string
		}
		var targets []target
		for i, q := range queries {
			mq, err := queryExpression(tx.Schema(), q, i, model.Env{Now: s.cfg.Clock(), UserID: req.Caller.UserID, BusinessUnitID: req.Caller.BusinessUnitID})
			if err != nil {
				return err
			}
			res, err := tx.Select(mq)
			if err != nil {
				return err
			}
			t := target{e: mq.Entity}
			for _, r := range res.Rows {
				t.ids = append(t.ids, r.ID)
			}
			targets = append(targets, t)
			tables = append(tables, mq.Entity.LogicalName)
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		deleted := 0
		for _, t := range targets {
			for _, id := range t.ids {
				// A row an earlier deletion cascaded to is already gone.
				if ok, err := tx.Exists(t.e, id); err != nil {
					return err
				} else if !ok {
					continue
				}
				if err := w.delete(t.e, id); err != nil {
					deleteErr = err
					return err
				}
				deleted++
			}
		}
		_, err = w.insertRow(jobs, job(w, tables, deleted, nil))
		return err
	})
	switch {
	case err != nil && (deleteErr == nil || req.cs != nil):
		return nil, err
	case err != nil:
		// The deletions were rolled back; the failed job is recorded on its own.
		if werr := s.store.Write(req.Ctx, func(tx *store.Tx) error {
			jobs, err := schemaEntity(tx, "asyncoperation")
			if err != nil {
				return err
			}
			w := s.newWriter(req.Ctx, tx, req.Caller)
			_, err = w.insertRow(jobs, job(w, tables, 0, deleteErr))
			return err
		}); werr != nil {
			return nil, werr
		}
	}
	body := wire.NewObject()
	body.Set("JobId", jobID)
	return OperationResponse(req, "mscrm.BulkDeleteResponse", body), nil
}
