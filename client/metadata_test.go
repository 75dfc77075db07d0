package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const metaAPI = "/api/data/v9.2/"

func TestLabel(t *testing.T) {
	t.Parallel()
	got := Label("Balance", 0)
	want := Record{
		"@odata.type": "Microsoft.Dynamics.CRM.Label",
		"LocalizedLabels": []any{Record{
			"@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": "Balance", "LanguageCode": 1033,
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Label (-want +got):\n%s", diff)
	}
	if got := Label("Kontostand", 1031)["LocalizedLabels"].([]any)[0].(Record)["LanguageCode"]; got != 1031 {
		t.Errorf("language = %v, want 1031", got)
	}
}

func TestLabelText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		label any
		want  string
	}{
		{name: "user localized", label: metaLabel("Kontakt", 1031, "Contact", 1033), want: "Kontakt"},
		{name: "no user label falls back to the first localized", label: map[string]any{
			"LocalizedLabels":    []any{map[string]any{"Label": "Contact", "LanguageCode": 1033}},
			"UserLocalizedLabel": nil,
		}, want: "Contact"},
		{name: "empty label", label: metaLabel(), want: ""},
		{name: "built with Label", label: Label("Balance", 0), want: "Balance"},
		{name: "not a label", label: "Account", want: ""},
		{name: "absent", label: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := LabelText(tt.label); got != tt.want {
				t.Errorf("LabelText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListEntityTypes(t *testing.T) {
	t.Parallel()
	t.Run("one page, no preference without a page size", func(t *testing.T) {
		t.Parallel()
		f, c := newMetadataFake(t)
		got, resp, err := c.ListEntityTypes(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req := f.last(t)
		checkRequest(t, wantRequest{Method: "GET", Path: metaAPI, Headers: map[string]string{"Prefer": "", "Accept": "application/json"}}, req)
		if got.TotalCount != 5 || got.HasMore || got.NextLink != "" || resp.StatusCode != 200 {
			t.Errorf("got %+v (status %d), want 5 entries and no next page", got, resp.StatusCode)
		}
		if diff := cmp.Diff(EntitySetInfo{Name: "accounts", Kind: "EntitySet", URL: "accounts"}, got.Entities[0]); diff != "" {
			t.Errorf("first entry (-want +got):\n%s", diff)
		}
	})
	t.Run("page size and next link", func(t *testing.T) {
		t.Parallel()
		f, c := newMetadataFake(t)
		ctx := context.Background()
		first, resp, err := c.ListEntityTypes(ctx, &ListEntityTypesOptions{PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantLink := f.srv.URL + metaAPI + "?$skiptoken=2"
		if first.TotalCount != 2 || !first.HasMore || first.NextLink != wantLink || resp.NextLink != wantLink {
			t.Fatalf("first page = %+v, want 2 entries and next link %s", first, wantLink)
		}
		second, _, err := c.ListEntityTypes(ctx, &ListEntityTypesOptions{PageSize: 2, NextLink: first.NextLink})
		if err != nil {
			t.Fatal(err)
		}
		checkRequest(t, wantRequest{Method: "GET", Path: metaAPI, RawQuery: "$skiptoken=2",
			Headers: map[string]string{"Prefer": "odata.maxpagesize=2"}}, f.last(t))
		if second.Entities[0].Name != "new_invoices" {
			t.Errorf("second page starts with %q, want new_invoices", second.Entities[0].Name)
		}
	})
	t.Run("all pages", func(t *testing.T) {
		t.Parallel()
		f, c := newMetadataFake(t)
		var names []string
		for e, err := range c.AllEntityTypes(context.Background(), &ListEntityTypesOptions{PageSize: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.Name)
		}
		want := []string{"accounts", "contacts", "new_invoices", "customeraddresses", "WhoAmI"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		if f.count() != 3 {
			t.Errorf("%d requests, want 3", f.count())
		}
	})
	t.Run("max pages", func(t *testing.T) {
		t.Parallel()
		_, c := newMetadataFake(t)
		var last error
		for _, err := range c.AllEntityTypes(context.Background(), &ListEntityTypesOptions{PageSize: 2, MaxPages: 2}) {
			last = err
		}
		if !errors.Is(last, ErrTooManyPages) {
			t.Errorf("error = %v, want ErrTooManyPages", last)
		}
	})
	t.Run("foreign next link is refused", func(t *testing.T) {
		t.Parallel()
		f, c := newMetadataFake(t)
		_, _, err := c.ListEntityTypes(context.Background(), &ListEntityTypesOptions{NextLink: "https://evil.example/api/data/v9.2/?$skiptoken=2"})
		if !errors.Is(err, ErrInvalidInput) || f.count() != 0 {
			t.Errorf("error = %v after %d requests, want ErrInvalidInput and none", err, f.count())
		}
	})
	t.Run("error", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, http.StatusForbidden, `{"error":{"code":"0x80040220","message":"Principal user is missing prvReadEntity privilege"}}`)
		})
		_, resp, err := newTestClient(t, f).ListEntityTypes(context.Background(), nil)
		var apiErr *Error
		if !errors.As(err, &apiErr) || !errors.Is(err, ErrForbidden) || apiErr.Code != "0x80040220" || resp.StatusCode != 403 {
			t.Errorf("error = %v, want a 403 *Error", err)
		}
	})
}

func TestGetEntityMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		entity   string
		opts     *EntityMetadataOptions
		wantReqs []string
		wantID   string
		wantErr  error
	}{
		{
			name:     "logical name",
			entity:   "account",
			opts:     &EntityMetadataOptions{Select: []string{"LogicalName", "EntitySetName", "PrimaryIdAttribute"}},
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(LogicalName='account')?$select=LogicalName,EntitySetName,PrimaryIdAttribute"},
			wantID:   accountMetaID,
		},
		{
			name:     "schema name is lower-cased",
			entity:   "Account",
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(LogicalName='account')"},
			wantID:   accountMetaID,
		},
		{
			name:     "metadata id with braces",
			entity:   "{" + contactMetaID + "}",
			opts:     &EntityMetadataOptions{Expand: []Expand{{Property: "Attributes", Select: []string{"LogicalName", "AttributeType"}}}},
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(" + contactMetaID + ")?$expand=Attributes($select=LogicalName,AttributeType)"},
			wantID:   contactMetaID,
		},
		{
			name:   "entity set name",
			entity: "accounts",
			opts:   &EntityMetadataOptions{Select: []string{"LogicalName"}},
			wantReqs: []string{
				"GET " + metaAPI + "EntityDefinitions(LogicalName='accounts')?$select=LogicalName",
				"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'accounts'",
				"GET " + metaAPI + "EntityDefinitions(" + accountMetaID + ")?$select=LogicalName",
			},
			wantID: accountMetaID,
		},
		{
			name:     "alternate key",
			entity:   `LogicalName="new_invoice"`,
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(LogicalName='new_invoice')"},
			wantID:   invoiceMetaID,
		},
		{
			name:   "unknown name",
			entity: "nosuchtable",
			wantReqs: []string{
				"GET " + metaAPI + "EntityDefinitions(LogicalName='nosuchtable')",
				"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'nosuchtable'",
			},
			wantErr: ErrNotFound,
		},
		{
			name:     "unknown id is not looked up as a set name",
			entity:   unknownTableID,
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(" + unknownTableID + ")"},
			wantErr:  ErrNotFound,
		},
		{name: "bad identifier", entity: "accounts; drop", wantErr: ErrInvalidInput},
		{name: "empty", entity: "", wantErr: ErrInvalidInput},
		{name: "bad select", entity: "account", opts: &EntityMetadataOptions{Select: []string{"a b"}}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, resp, err := c.GetEntityMetadata(context.Background(), tt.entity, tt.opts)
			if diff := cmp.Diff(tt.wantReqs, metaRequestLines(f.requests()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == ErrNotFound {
					var apiErr *Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || resp == nil || resp.StatusCode != 404 {
						t.Errorf("error = %#v, want a 404 *Error with its Response", err)
					}
					// The error is that of the first request, which named the table as given.
					if apiErr != nil && apiErr.URL != f.srv.URL+metaAPI+"EntityDefinitions(LogicalName='nosuchtable')" && tt.entity == "nosuchtable" {
						t.Errorf("error URL = %s, want the logical-name request", apiErr.URL)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.MetadataID != tt.wantID {
				t.Errorf("MetadataID = %s, want %s", got.MetadataID, tt.wantID)
			}
		})
	}
}

func TestGetEntityMetadataTypedFields(t *testing.T) {
	t.Parallel()
	_, c := newMetadataFake(t)
	got, _, err := c.GetEntityMetadata(context.Background(), "contact", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := EntityDefinition{
		MetadataID: contactMetaID, LogicalName: "contact", SchemaName: "Contact", EntitySetName: "contacts",
		DisplayName: "Contact", DisplayCollectionName: "Contacts", PrimaryIDAttribute: "contactid",
		PrimaryNameAttribute: "name", ObjectTypeCode: 2, OwnershipType: "UserOwned",
	}
	if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(EntityDefinition{}, "Raw")); diff != "" {
		t.Errorf("definition (-want +got):\n%s", diff)
	}
	if got.Raw["IsValidForQueue"] == nil || got.Raw["DisplayName"] == nil {
		t.Errorf("Raw lacks properties: %v", got.Raw)
	}
}

func TestGetEntityMetadataUnwrapsValue(t *testing.T) {
	t.Parallel()
	// The docs show a table retrieved by name wrapped in a one-item "value" array.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"@odata.context":"x","value":[{"MetadataId":"`+accountMetaID+`","LogicalName":"account","EntitySetName":"accounts"}]}`)
	})
	got, _, err := newTestClient(t, f).GetEntityMetadata(context.Background(), "account", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.EntitySetName != "accounts" || got.MetadataID != accountMetaID {
		t.Errorf("got %+v, want the account", got)
	}
}

func TestListEntities(t *testing.T) {
	t.Parallel()
	const sel = "$select=LogicalName,SchemaName,EntitySetName,DisplayName,DisplayCollectionName,PrimaryIdAttribute,PrimaryNameAttribute,ObjectTypeCode,IsCustomEntity,IsChildEntity"
	tests := []struct {
		name       string
		opts       *ListEntitiesOptions
		wantQuery  string
		wantNames  []string
		wantCustom int
		wantSystem int
	}{
		{
			name:       "everything, sorted by schema name",
			wantQuery:  sel,
			wantNames:  []string{"account", "contact", "customeraddress", "new_invoice"},
			wantCustom: 1, wantSystem: 3,
		},
		{
			name:       "without custom tables",
			opts:       &ListEntitiesOptions{ExcludeCustom: true},
			wantQuery:  sel + "&$filter=IsCustomEntity%20eq%20false",
			wantNames:  []string{"account", "contact", "customeraddress"},
			wantSystem: 3,
		},
		{
			name:       "top level only, with details",
			opts:       &ListEntitiesOptions{TopLevelOnly: true, ExcludeCustom: true, Details: true},
			wantQuery:  sel + ",Description,OwnershipType,IsActivity,IsIntersect,IsBusinessProcessEnabled,IsValidForAdvancedFind,IsValidForQueue,EntityColor,IconLargeName,IconMediumName,IconSmallName&$filter=(IsCustomEntity%20eq%20false)%20and%20(IsChildEntity%20eq%20false)",
			wantNames:  []string{"account", "contact"},
			wantSystem: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, _, err := c.ListEntities(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, wantRequest{Method: "GET", Path: metaAPI + "EntityDefinitions", RawQuery: tt.wantQuery}, f.last(t))
			var names []string
			for _, e := range got.Entities {
				names = append(names, e.LogicalName)
			}
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("tables (-want +got):\n%s", diff)
			}
			if got.TotalCount != len(tt.wantNames) || got.CustomCount != tt.wantCustom || got.SystemCount != tt.wantSystem {
				t.Errorf("counts = %d/%d/%d, want %d/%d/%d", got.TotalCount, got.CustomCount, got.SystemCount,
					len(tt.wantNames), tt.wantCustom, tt.wantSystem)
			}
		})
	}
}

func TestListEntitiesFiltersWhenTheServerDoesNot(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"value":[{"MetadataId":"`+accountMetaID+`","LogicalName":"account","SchemaName":"Account","IsCustomEntity":false,"IsChildEntity":false},`+
			`{"MetadataId":"`+invoiceMetaID+`","LogicalName":"new_invoice","SchemaName":"new_Invoice","IsCustomEntity":true,"IsChildEntity":false}]}`)
	})
	got, _, err := newTestClient(t, f).ListEntities(context.Background(), &ListEntitiesOptions{ExcludeCustom: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entities) != 1 || got.Entities[0].LogicalName != "account" {
		t.Errorf("entities = %+v, want account only", got.Entities)
	}
}

func TestGetEntitiesMetadata(t *testing.T) {
	t.Parallel()
	const list = "GET " + metaAPI + "EntityDefinitions?$select=LogicalName,SchemaName,EntitySetName,DisplayName,IsCustomEntity,IsChildEntity"
	attrs := func(id string) string {
		return "GET " + metaAPI + "EntityDefinitions(" + id + ")/Attributes?$select=LogicalName,DisplayName"
	}
	tests := []struct {
		name     string
		opts     *EntitiesMetadataOptions
		wantReqs []string
		want     []EntityObject
	}{
		{
			name: "names, labels and set names, case-insensitively",
			opts: &EntitiesMetadataOptions{
				Names:           []string{" ACCOUNT ", "kontakt", "new_invoices"},
				DefaultSelected: []string{"account"},
			},
			wantReqs: []string{list, attrs(contactMetaID), attrs(accountMetaID), attrs(invoiceMetaID)},
			want: []EntityObject{
				{Object: KeyLabel{Key: contactMetaID, Label: "Contact"}, Fields: []KeyLabel{
					{Key: "contactid", Label: "Contact"}, {Key: "fullname", Label: "Full Name"}, {Key: "parentcustomerid", Label: "Company Name"}}},
				{Object: KeyLabel{Key: accountMetaID, Label: "Account"}, DefaultSelected: true, Fields: []KeyLabel{
					{Key: "name", Label: "Account Name"}, {Key: "accountid", Label: "Account"}, {Key: "revenue", Label: "Annual Revenue"},
					{Key: "new_balance", Label: "Balance"}, {Key: "primarycontactid", Label: "Primary Contact"},
					{Key: "ownerid", Label: "Owner"}, {Key: "versionnumber"}}},
				{Object: KeyLabel{Key: invoiceMetaID, Label: "new_Invoice"}, Fields: []KeyLabel{
					{Key: "new_invoiceid", Label: "Invoice"}, {Key: "new_name", Label: "Name"}}},
			},
		},
		{
			name: "flags apply with names",
			opts: &EntitiesMetadataOptions{Names: []string{"Invoice", "Address", "Contact"}, ExcludeCustom: true, TopLevelOnly: true},
			wantReqs: []string{
				list + "&$filter=(IsCustomEntity%20eq%20false)%20and%20(IsChildEntity%20eq%20false)",
				attrs(contactMetaID),
			},
			want: []EntityObject{
				{Object: KeyLabel{Key: contactMetaID, Label: "Contact"}, Fields: []KeyLabel{
					{Key: "contactid", Label: "Contact"}, {Key: "fullname", Label: "Full Name"}, {Key: "parentcustomerid", Label: "Company Name"}}},
			},
		},
		{
			name: "top level only keeps custom tables",
			opts: &EntitiesMetadataOptions{Names: []string{"customeraddress", "new_invoice"}, TopLevelOnly: true, DefaultSelected: []string{"Invoice"}},
			wantReqs: []string{
				list + "&$filter=IsChildEntity%20eq%20false",
				attrs(invoiceMetaID),
			},
			want: []EntityObject{
				{Object: KeyLabel{Key: invoiceMetaID, Label: "new_Invoice"}, DefaultSelected: true, Fields: []KeyLabel{
					{Key: "new_invoiceid", Label: "Invoice"}, {Key: "new_name", Label: "Name"}}},
			},
		},
		{
			name:     "nothing matches",
			opts:     &EntitiesMetadataOptions{Names: []string{"nothing"}},
			wantReqs: []string{list},
			want:     []EntityObject{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, resp, err := c.GetEntitiesMetadata(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Errorf("status = %d", resp.StatusCode)
			}
			// The column requests run concurrently: compare them as a set.
			lines := metaRequestLines(f.requests())
			if diff := cmp.Diff(tt.wantReqs, lines, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(EntityObject{}, "Entity"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetEntitiesMetadataBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const tables, concurrency = 12, 3
	var inFlight, peak atomic.Int32
	// Column requests are held until concurrency of them are in flight at once, so the peak is
	// reached whatever the scheduling, and a client that sends more at once is caught. Once full
	// has been closed the rest pass through.
	full := make(chan struct{})
	var fullOnce sync.Once
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == metaAPI+"EntityDefinitions" {
			var b []byte
			b = append(b, `{"value":[`...)
			for i := range tables {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"MetadataId":"00000000-0000-4000-8000-0000000000`+string(rune('a'+i/10))+string(rune('0'+i%10))+`","LogicalName":"t`+string(rune('a'+i))+`"}`...)
			}
			b = append(b, `]}`...)
			reply(w, 200, string(b))
			return
		}
		now := inFlight.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		if now == concurrency {
			fullOnce.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			t.Errorf("column request waited 10s for %d requests in flight at once", concurrency)
		}
		inFlight.Add(-1)
		reply(w, 200, `{"value":[{"LogicalName":"x"}]}`)
	})
	got, _, err := newTestClient(t, f).GetEntitiesMetadata(context.Background(), &EntitiesMetadataOptions{Concurrency: concurrency})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != tables || f.count() != tables+1 {
		t.Fatalf("%d objects after %d requests, want %d after %d", len(got), f.count(), tables, tables+1)
	}
	for _, o := range got {
		if len(o.Fields) != 1 {
			t.Errorf("%s has %d fields, want 1", o.Object.Key, len(o.Fields))
		}
	}
	if p := peak.Load(); p != concurrency {
		t.Errorf("peak concurrency = %d, want %d", p, concurrency)
	}
}

func TestGetEntitiesMetadataStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	columnRequests := 0
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == metaAPI+"EntityDefinitions" {
			reply(w, 200, `{"value":[{"MetadataId":"`+accountMetaID+`","LogicalName":"account"},{"MetadataId":"`+contactMetaID+`","LogicalName":"contact"},{"MetadataId":"`+invoiceMetaID+`","LogicalName":"new_invoice"}]}`)
			return
		}
		mu.Lock()
		columnRequests++
		mu.Unlock()
		reply(w, 429, `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}`, "Retry-After", "5")
	})
	clock := &fakeClock{}
	_, _, err := newTestClient(t, f, clock.option()).GetEntitiesMetadata(context.Background(), &EntitiesMetadataOptions{Concurrency: 1})
	if !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("error = %v, want ErrTooManyRequests", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The first column request and its retries (the client retries 429s by default), then no more:
	// one worker stops at its first error.
	if columnRequests != 1+DefaultThrottleRetries {
		t.Errorf("%d column requests, want %d", columnRequests, 1+DefaultThrottleRetries)
	}
}

func TestGetEntitiesMetadataListError(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 401, "", "WWW-Authenticate", `Bearer error="invalid_token"`)
	})
	_, resp, err := newTestClient(t, f).GetEntitiesMetadata(context.Background(), nil)
	if !errors.Is(err, ErrUnauthorized) || resp == nil || resp.StatusCode != 401 {
		t.Errorf("error = %v, want ErrUnauthorized with the response", err)
	}
}

func TestForEachLimitCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := forEachLimit(ctx, 5, 2, func(ctx context.Context, i int) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("error = %v after %d calls, want context.Canceled and none", err, calls)
	}
	if err := forEachLimit(context.Background(), 0, 2, nil); err != nil {
		t.Errorf("no work: error = %v", err)
	}
}

func TestCreateEntity(t *testing.T) {
	t.Parallel()
	f, c := newMetadataFake(t)
	spec := EntitySpec{
		SchemaName: "new_BankAccount", DisplayName: "Bank Account", DisplayCollectionName: "Bank Accounts",
		Description: "A bank account", HasNotes: true,
		PrimaryName: AttributeSpec{SchemaName: "new_AccountName", DisplayName: "Account Name", RequiredLevel: "applicationrequired"},
	}
	id, resp, err := c.CreateEntity(context.Background(), spec, &MetadataWriteOptions{SolutionUniqueName: "examplesolution"})
	if err != nil {
		t.Fatal(err)
	}
	if id != newEntityID || resp.ID != newEntityID || resp.StatusCode != 204 {
		t.Errorf("id = %s, Response.ID = %s, status %d; want %s, 204", id, resp.ID, resp.StatusCode, newEntityID)
	}
	lbl := func(s string) string {
		return `{"@odata.type":"Microsoft.Dynamics.CRM.Label","LocalizedLabels":[{"@odata.type":"Microsoft.Dynamics.CRM.LocalizedLabel","Label":"` + s + `","LanguageCode":1033}]}`
	}
	checkRequest(t, wantRequest{
		Method: "POST", Path: metaAPI + "EntityDefinitions",
		Headers: map[string]string{"MSCRM.SolutionUniqueName": "examplesolution", "Content-Type": "application/json; charset=utf-8"},
		Body: `{"@odata.type":"Microsoft.Dynamics.CRM.EntityMetadata","Attributes":[{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata",` +
			`"AttributeType":"String","AttributeTypeName":{"Value":"StringType"},"DisplayName":` + lbl("Account Name") + `,"FormatName":{"Value":"Text"},` +
			`"IsPrimaryName":true,"MaxLength":100,"RequiredLevel":{"CanBeChanged":true,"ManagedPropertyLogicalName":"canmodifyrequirementlevelsettings","Value":"ApplicationRequired"},` +
			`"SchemaName":"new_AccountName"}],"Description":` + lbl("A bank account") + `,"DisplayCollectionName":` + lbl("Bank Accounts") +
			`,"DisplayName":` + lbl("Bank Account") + `,"HasActivities":false,"HasNotes":true,"IsActivity":false,"OwnershipType":"UserOwned","SchemaName":"new_BankAccount"}`,
	}, f.last(t))
}

func TestCreateEntityInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		def      Definition
		solution string
	}{
		{name: "nil", def: nil},
		{name: "nil record", def: Record(nil)},
		{name: "no schema name", def: EntitySpec{DisplayName: "A", DisplayCollectionName: "As", PrimaryName: AttributeSpec{SchemaName: "new_name"}}},
		{name: "no plural", def: EntitySpec{SchemaName: "new_A", DisplayName: "A", PrimaryName: AttributeSpec{SchemaName: "new_name"}}},
		{name: "bad ownership", def: EntitySpec{SchemaName: "new_A", DisplayName: "A", DisplayCollectionName: "As", OwnershipType: "TeamOwned", PrimaryName: AttributeSpec{SchemaName: "new_name"}}},
		{name: "primary name not a string", def: EntitySpec{SchemaName: "new_A", DisplayName: "A", DisplayCollectionName: "As", PrimaryName: AttributeSpec{SchemaName: "new_name", Type: "Integer"}}},
		{name: "primary name without schema name", def: EntitySpec{SchemaName: "new_A", DisplayName: "A", DisplayCollectionName: "As"}},
		{name: "bad solution", def: Record{"SchemaName": "new_A"}, solution: "bad name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			_, _, err := c.CreateEntity(context.Background(), tt.def, &MetadataWriteOptions{SolutionUniqueName: tt.solution})
			if !errors.Is(err, ErrInvalidInput) || f.count() != 0 {
				t.Errorf("error = %v after %d requests, want ErrInvalidInput before any", err, f.count())
			}
		})
	}
}

func TestDeleteEntity(t *testing.T) {
	t.Parallel()
	f, c := newMetadataFake(t)
	resp, err := c.DeleteEntity(context.Background(), "new_invoices")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DELETE " + metaAPI + "EntityDefinitions(LogicalName='new_invoices')",
		"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'new_invoices'",
		"DELETE " + metaAPI + "EntityDefinitions(" + invoiceMetaID + ")",
	}
	if diff := cmp.Diff(want, metaRequestLines(f.requests())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if resp.StatusCode != 204 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}
