package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EntitySetInfo is one entry of the service document: an entity set (kind EntitySet), a singleton
// or a function import, with the URL relative to the API root.
type EntitySetInfo struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// EntityTypeList is one page of the service document: the entity sets, singletons and functions it
// lists, in the shape of the Prismatic component's List Entity Types output.
type EntityTypeList struct {
	Entities []EntitySetInfo `json:"entities"`
	// TotalCount is the number of entries on this page.
	TotalCount int `json:"totalCount"`
	// NextLink is the @odata.nextLink to the next page, "" on the last.
	NextLink string `json:"nextLink"`
	HasMore  bool   `json:"hasMore"`
}

// ListEntityTypesOptions adjusts ListEntityTypes and AllEntityTypes.
type ListEntityTypesOptions struct {
	// PageSize asks for at most this many entries per page (Prefer: odata.maxpagesize); 0 sends no
	// preference. Dataverse does not page the service document in practice.
	PageSize int
	// NextLink continues from a page's NextLink.
	NextLink string
	// MaxPages bounds AllEntityTypes (0: no bound); more pages end with ErrTooManyPages.
	MaxPages int
}

// ListEntityTypes reads one page of the service document (GET on the API root): the names of every
// entity set, singleton and function import the organisation serves.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-service-documents
func (c *Client) ListEntityTypes(ctx context.Context, opts *ListEntityTypesOptions) (*EntityTypeList, *Response, error) {
	if opts == nil {
		opts = &ListEntityTypesOptions{}
	}
	if opts.PageSize < 0 {
		return nil, nil, fmt.Errorf("client: negative page size %d: %w", opts.PageSize, ErrInvalidInput)
	}
	r := c.apiRequest(http.MethodGet, "", nil)
	if opts.NextLink != "" {
		u, err := c.resolveRawPath(opts.NextLink)
		if err != nil {
			return nil, nil, err
		}
		r.url = u
	}
	if opts.PageSize > 0 {
		r.prefer("odata.maxpagesize=" + strconv.Itoa(opts.PageSize))
	}
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	var doc struct {
		Value    []EntitySetInfo `json:"value"`
		NextLink string          `json:"@odata.nextLink"`
	}
	if err := decodeJSON(body, &doc); err != nil {
		return nil, resp, fmt.Errorf("dataverse: GET %s: decode service document: %w", redactURL(r.url), err)
	}
	resp.NextLink = doc.NextLink
	list := &EntityTypeList{
		Entities:   doc.Value,
		TotalCount: len(doc.Value),
		NextLink:   doc.NextLink,
		HasMore:    doc.NextLink != "",
	}
	if list.Entities == nil {
		list.Entities = []EntitySetInfo{}
	}
	return list, resp, nil
}

// AllEntityTypes walks every entry of every page of the service document. It stops at the first
// error, yielded once.
func (c *Client) AllEntityTypes(ctx context.Context, opts *ListEntityTypesOptions) iter.Seq2[EntitySetInfo, error] {
	return func(yield func(EntitySetInfo, error) bool) {
		o := ListEntityTypesOptions{}
		if opts != nil {
			o = *opts
		}
		for n := 1; ; n++ {
			if o.MaxPages > 0 && n > o.MaxPages {
				yield(EntitySetInfo{}, ErrTooManyPages)
				return
			}
			page, _, err := c.ListEntityTypes(ctx, &o)
			if err != nil {
				yield(EntitySetInfo{}, err)
				return
			}
			for _, e := range page.Entities {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextLink == "" {
				return
			}
			o.NextLink = page.NextLink
		}
	}
}

// EntityMetadataOptions adjusts GetEntityMetadata.
type EntityMetadataOptions struct {
	// Select lists the EntityMetadata properties to return; empty returns them all (a large
	// document: select what you need).
	Select []string
	// Expand returns navigation properties such as Attributes, Keys or ManyToOneRelationships.
	Expand []Expand
}

// GetEntityMetadata retrieves a table definition. The table is named by its logical name (account),
// its MetadataId, its entity set name (accounts) or an alternate key (LogicalName='account'): a name
// is tried as a logical name, and on a 404 looked up as an entity set name (see "Table and column
// metadata" in the package documentation). An unknown table is a 404 *Error (ErrNotFound).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-metadata-name-metadataid
func (c *Client) GetEntityMetadata(ctx context.Context, entity string, opts *EntityMetadataOptions) (*EntityDefinition, *Response, error) {
	if opts == nil {
		opts = &EntityMetadataOptions{}
	}
	var q query
	if err := q.addSelectExpand(opts.Select, opts.Expand); err != nil {
		return nil, nil, err
	}
	rec, resp, err := onEntity(ctx, c, entity, func(path string) (Record, *Response, error) {
		return c.getMetadataObject(ctx, c.apiRequest(http.MethodGet, path, q))
	})
	if err != nil {
		return nil, resp, err
	}
	def := newEntityDefinition(rec)
	return &def, resp, nil
}

// ListEntitiesOptions adjusts ListEntities. The zero value lists every table.
type ListEntitiesOptions struct {
	// ExcludeCustom leaves out custom tables (IsCustomEntity). It is the negation of the Prismatic
	// component's "Include Custom Entities", so that the zero value includes them.
	ExcludeCustom bool
	// TopLevelOnly leaves out child tables (IsChildEntity): tables whose rows only exist under a
	// parent row. This is what the Prismatic component's "Top Level
	// Only" tests.
	TopLevelOnly bool
	// Details also returns Description, OwnershipType, IsActivity, IsIntersect,
	// IsBusinessProcessEnabled, IsValidForAdvancedFind, IsValidForQueue, EntityColor and the icon
	// names (in Raw where EntityDefinition has no field for them).
	Details bool
}

// EntityList is the result of ListEntities.
type EntityList struct {
	// Entities are sorted by SchemaName, case-insensitively.
	Entities []EntityDefinition
	// TotalCount, CustomCount and SystemCount count the listed tables.
	TotalCount  int
	CustomCount int
	SystemCount int
}

// Properties ListEntities selects; Dataverse returns MetadataId always.
var (
	entityListSelect = []string{"LogicalName", "SchemaName", "EntitySetName", "DisplayName", "DisplayCollectionName",
		"PrimaryIdAttribute", "PrimaryNameAttribute", "ObjectTypeCode", "IsCustomEntity", "IsChildEntity"}
	entityDetailSelect = []string{"Description", "OwnershipType", "IsActivity", "IsIntersect", "IsBusinessProcessEnabled",
		"IsValidForAdvancedFind", "IsValidForQueue", "EntityColor", "IconLargeName", "IconMediumName", "IconSmallName"}
)

// ListEntities lists table definitions. Unlike the Prismatic component, which downloads every
// property of every table, it selects the properties it returns and lets the service apply ExcludeCustom and
// TopLevelOnly ($filter); the same conditions are checked again on the answer.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) ListEntities(ctx context.Context, opts *ListEntitiesOptions) (*EntityList, *Response, error) {
	if opts == nil {
		opts = &ListEntitiesOptions{}
	}
	sel := entityListSelect
	if opts.Details {
		sel = append(slices.Clip(sel), entityDetailSelect...)
	}
	defs, resp, err := c.listEntityDefinitions(ctx, sel, opts.ExcludeCustom, opts.TopLevelOnly)
	if err != nil {
		return nil, resp, err
	}
	slices.SortStableFunc(defs, func(a, b EntityDefinition) int {
		if n := strings.Compare(strings.ToLower(a.SchemaName), strings.ToLower(b.SchemaName)); n != 0 {
			return n
		}
		return strings.Compare(a.LogicalName, b.LogicalName)
	})
	out := &EntityList{Entities: defs, TotalCount: len(defs)}
	for _, d := range defs {
		if d.IsCustomEntity {
			out.CustomCount++
		} else {
			out.SystemCount++
		}
	}
	return out, resp, nil
}

// listEntityDefinitions GETs EntityDefinitions with the given properties, filtered on the service
// and again here.
func (c *Client) listEntityDefinitions(ctx context.Context, sel []string, excludeCustom, topLevelOnly bool) ([]EntityDefinition, *Response, error) {
	var q query
	q.add("$select", strings.Join(sel, ","))
	var filter string
	if excludeCustom {
		filter = andFilter(filter, "IsCustomEntity eq false")
	}
	if topLevelOnly {
		filter = andFilter(filter, "IsChildEntity eq false")
	}
	if filter != "" {
		q.add("$filter", filter)
	}
	list, resp, err := c.getMetadataList(ctx, c.apiRequest(http.MethodGet, "EntityDefinitions", q))
	if err != nil {
		return nil, resp, err
	}
	defs := make([]EntityDefinition, 0, len(list))
	for _, m := range list {
		d := newEntityDefinition(m)
		if (excludeCustom && d.IsCustomEntity) || (topLevelOnly && d.IsChildEntity) {
			continue
		}
		defs = append(defs, d)
	}
	return defs, resp, nil
}

// EntitiesMetadataOptions adjusts GetEntitiesMetadata. The zero value returns every table.
type EntitiesMetadataOptions struct {
	// Names keeps only the tables named here. A name matches a table's LogicalName, SchemaName,
	// EntitySetName or any of its display labels, trimmed and case-insensitively (the Prismatic
	// component compares SchemaName only, although its docs promise names or labels). Empty keeps every table.
	Names []string
	// ExcludeCustom and TopLevelOnly are as in ListEntitiesOptions. They apply together with Names:
	// a table must pass all three.
	ExcludeCustom bool
	TopLevelOnly  bool
	// DefaultSelected names the tables whose DefaultSelected is true, matched as Names are.
	DefaultSelected []string
	// Concurrency bounds the column requests in flight at once (0: 4).
	Concurrency int
}

// KeyLabel is a key and a label, as a picker shows them.
type KeyLabel struct {
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
}

// EntityObject is one table of GetEntitiesMetadata, in the shape of the Prismatic component's Get
// Entities Metadata output.
type EntityObject struct {
	// Object holds the table's MetadataId (Key) and SchemaName (Label).
	Object KeyLabel `json:"object"`
	// DefaultSelected tells whether EntitiesMetadataOptions.DefaultSelected names the table.
	DefaultSelected bool `json:"defaultSelected"`
	// Fields are the table's columns: LogicalName (Key) and display label (Label, "" when the
	// column has none), in the order the service lists them.
	Fields []KeyLabel `json:"fields"`
	// Entity is the table's definition as listed.
	Entity EntityDefinition `json:"-"`
}

// defaultConcurrency bounds the column requests of GetEntitiesMetadata when the caller does not;
// low enough to stay clear of the service protection limits.
const defaultConcurrency = 4

// GetEntitiesMetadata returns tables and their columns, for a picker of objects and fields: one
// EntityDefinitions request, then one Attributes request per kept table, run concurrently by at most
// Concurrency workers. The first failing request cancels the others and its error is returned. The
// Response is that of the EntityDefinitions request.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) GetEntitiesMetadata(ctx context.Context, opts *EntitiesMetadataOptions) ([]EntityObject, *Response, error) {
	if opts == nil {
		opts = &EntitiesMetadataOptions{}
	}
	workers := opts.Concurrency
	if workers < 0 {
		return nil, nil, fmt.Errorf("client: negative concurrency %d: %w", workers, ErrInvalidInput)
	}
	if workers == 0 {
		workers = defaultConcurrency
	}
	sel := []string{"LogicalName", "SchemaName", "EntitySetName", "DisplayName", "IsCustomEntity", "IsChildEntity"}
	defs, resp, err := c.listEntityDefinitions(ctx, sel, opts.ExcludeCustom, opts.TopLevelOnly)
	if err != nil {
		return nil, resp, err
	}
	keep := newNameSet(opts.Names)
	selected := newNameSet(opts.DefaultSelected)
	out := make([]EntityObject, 0, len(defs))
	for _, d := range defs {
		if len(keep) > 0 && !keep.matches(d) {
			continue
		}
		if !isGUID(d.MetadataID) {
			return nil, resp, fmt.Errorf("dataverse: table %s has no MetadataId", d.LogicalName)
		}
		out = append(out, EntityObject{
			Object:          KeyLabel{Key: d.MetadataID, Label: d.SchemaName},
			DefaultSelected: selected.matches(d),
			Entity:          d,
		})
	}
	var q query
	q.add("$select", "LogicalName,DisplayName")
	err = forEachLimit(ctx, len(out), workers, func(ctx context.Context, i int) error {
		path := "EntityDefinitions(" + trimBraces(out[i].Object.Key) + ")/Attributes"
		list, _, err := c.getMetadataList(ctx, c.apiRequest(http.MethodGet, path, q))
		if err != nil {
			return err
		}
		fields := make([]KeyLabel, 0, len(list))
		for _, m := range list {
			fields = append(fields, KeyLabel{Key: propString(m, "LogicalName"), Label: LabelText(m["DisplayName"])})
		}
		out[i].Fields = fields
		return nil
	})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// nameSet holds table names matched case-insensitively against a table's identifiers and labels.
type nameSet map[string]bool

func newNameSet(names []string) nameSet {
	s := nameSet{}
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			s[n] = true
		}
	}
	return s
}

func (s nameSet) matches(d EntityDefinition) bool {
	if len(s) == 0 {
		return false
	}
	for _, n := range []string{d.LogicalName, d.SchemaName, d.EntitySetName} {
		if n != "" && s[strings.ToLower(n)] {
			return true
		}
	}
	for _, l := range labelTexts(d.Raw["DisplayName"]) {
		if s[strings.ToLower(strings.TrimSpace(l))] {
			return true
		}
	}
	return false
}

// forEachLimit calls fn for 0..n-1 from at most limit goroutines. The first error cancels the context
// the other calls get, no further index is started, and that error is returned.
func forEachLimit(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next >= n || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(limit, n) {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if next < n {
		// Stopped early by the caller's context.
		return ctx.Err()
	}
	return nil
}

// CreateEntity creates a table from an EntitySpec or a Record holding EntityMetadata, with
// POST EntityDefinitions. It returns the new table's MetadataId, which Response.ID also holds (from
// OData-EntityId).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-definitions-using-web-api
func (c *Client) CreateEntity(ctx context.Context, def Definition, opts *MetadataWriteOptions) (string, *Response, error) {
	if opts == nil {
		opts = &MetadataWriteOptions{}
	}
	if def == nil {
		return "", nil, fmt.Errorf("client: CreateEntity needs a definition: %w", ErrInvalidInput)
	}
	body, err := def.definition()
	if err != nil {
		return "", nil, err
	}
	r := c.apiRequest(http.MethodPost, "EntityDefinitions", nil)
	if err := r.setJSON(body); err != nil {
		return "", nil, err
	}
	if err := setSolution(r.header, opts.SolutionUniqueName); err != nil {
		return "", nil, err
	}
	return c.sendWrite(ctx, r)
}

// DeleteEntity deletes a table, its columns and its rows. The table is named as in
// GetEntityMetadata.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-definitions-using-web-api
func (c *Client) DeleteEntity(ctx context.Context, entity string) (*Response, error) {
	_, resp, err := onEntity(ctx, c, entity, func(path string) (struct{}, *Response, error) {
		resp, _, err := c.send(ctx, c.apiRequest(http.MethodDelete, path, nil))
		return struct{}{}, resp, err
	})
	return resp, err
}
