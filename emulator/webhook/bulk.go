package webhook

import "sort"

// Bulk messages. Dataverse merges their pipelines with the single-row messages: a bulk call raises
// the Create or Update event once for each of its Targets, and a single-row Create or Update raises
// the bulk event with Targets holding that one row.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/bulk-operations#message-pipelines-merged
const (
	MessageCreateMultiple = "CreateMultiple"
	MessageUpdateMultiple = "UpdateMultiple"
	MessageUpsertMultiple = "UpsertMultiple"
)

// IsBulk reports whether message is one of the bulk messages, whose steps see Targets rather than
// Target.
func IsBulk(message string) bool {
	switch message {
	case MessageCreateMultiple, MessageUpdateMultiple, MessageUpsertMultiple:
		return true
	}
	return false
}

// BulkOf names the bulk message merged with a single-row message (CreateMultiple for Create,
// UpdateMultiple for Update), or "" when there is none.
func BulkOf(message string) string {
	switch message {
	case "Create":
		return MessageCreateMultiple
	case "Update":
		return MessageUpdateMultiple
	}
	return ""
}

// Merge returns the steps of a and b together in stage and rank order, as Matching orders them.
func Merge(a, b []*Step) []*Step {
	if len(b) == 0 {
		return a
	}
	all := append(append([]*Step(nil), a...), b...)
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Stage != all[j].Stage {
			return all[i].Stage < all[j].Stage
		}
		return all[i].Rank < all[j].Rank
	})
	return all
}

// rows are the rows a bulk step sees: the operation's own rows for a bulk call, or the operation
// itself for a single-row one.
func (op *Operation) rows() []*Operation {
	if op.Rows != nil {
		return op.Rows
	}
	return []*Operation{op}
}

// primaryID is the context's PrimaryEntityId: the row's id, or the empty GUID for a bulk call of
// several rows.
func (op *Operation) primaryID() string {
	if op.ID == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return op.ID
}

// bulkParameters are the input and output parameters of a step on a bulk message: Targets as an
// EntityCollection and, after a CreateMultiple, the Ids created.
func (h *Dispatcher) bulkParameters(w *Invocation, st *Step, op *Operation) (input, output []any) {
	rows := op.rows()
	entities := make([]any, len(rows))
	for i, r := range rows {
		entities[i] = h.entityJSON(w, op.Entity, r.ID, r.Target, nil)
	}
	input = []any{kv("Targets", map[string]any{
		"__type": "EntityCollection" + contractsNS, "Entities": entities, "EntityName": op.Entity.LogicalName,
		"MinActiveRowVersion": nil, "MoreRecords": false, "PagingCookie": nil, "TotalRecordCount": -1,
		"TotalRecordCountLimitExceeded": false,
	})}
	if st.Message == MessageCreateMultiple && st.Stage == StagePostOperation {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		output = append(output, kv("Ids", ids))
	}
	return input, output
}

// imageCollections are PreEntityImagesCollection or PostEntityImagesCollection of a bulk step: one
// list of images per row of Targets, in the same order.
func (h *Dispatcher) imageCollections(w *Invocation, st *Step, op *Operation, pre bool) []any {
	rows := op.rows()
	out := make([]any, len(rows))
	for i, r := range rows {
		row := r.Post
		if pre {
			row = r.Pre
		}
		list := []any{}
		if row != nil && (pre || st.Stage == StagePostOperation) {
			for _, im := range st.Images {
				if im.Type == 2 || pre && im.Type == 0 || !pre && im.Type == 1 {
					list = append(list, kv(im.Alias, h.entityJSON(w, op.Entity, r.ID, row, im.Attributes)))
				}
			}
		}
		out[i] = list
	}
	return out
}
