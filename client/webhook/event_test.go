package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// contactID is the primary contact the Create example refers to.
const contactID = "c1b2a3d4-0000-4000-8000-000000000001"

// Execution contexts shaped like the ones Dataverse posts: the Update example of Microsoft's "Use
// webhooks" page with its elisions filled in, then Create, Update and Delete as a post-operation step
// with images sends them, and a custom API with collections.
const (
	ctxUpdateDocExample = `{"BusinessUnitId":"e2b9dd85-d0a1-e711-a94d-000d3a1a7a9b","CorrelationId":"b374239d-4233-41a9-8b17-a3b0ebe4d9a1","Depth":1,"InitiatingUserId":"75c2dd85-d0a1-e711-a94d-000d3a1a7a9b",
"InputParameters":[{"key":"Target","value":{"__type":"Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts",
 "Attributes":[{"key":"firstname","value":"James"},{"key":"contactid","value":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b"},
  {"key":"modifiedon","value":"\/Date(1506384247000)\/"},
  {"key":"modifiedby","value":{"__type":"EntityReference:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Id":"75c2dd85-d0a1-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"systemuser","Name":null,"RowVersion":null}}],
 "EntityState":null,"FormattedValues":[],"Id":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"contact","RelatedEntities":[],"RowVersion":null}}],
"IsExecutingOffline":false,"IsInTransaction":false,"IsOfflinePlayback":false,"IsolationMode":1,
"MessageName":"Update","Mode":1,"OperationCreatedOn":"\/Date(1506409448000-0700)\/","OperationId":"4af10637-4ea2-e711-a94d-000d3a1a7a9b",
"OrganizationId":"4ef5b371-b2a1-e711-a94d-000d3a1a7a9b","OrganizationName":"OrgName","OutputParameters":[],
"OwningExtension":{"Id":"75417616-4ea2-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"sdkmessageprocessingstep","Name":null,"RowVersion":null},
"ParentContext":{"BusinessUnitId":"e2b9dd85-d0a1-e711-a94d-000d3a1a7a9b","CorrelationId":"b374239d-4233-41a9-8b17-a3b0ebe4d9a1","Depth":1,"InitiatingUserId":"75c2dd85-d0a1-e711-a94d-000d3a1a7a9b",
 "InputParameters":[{"key":"Target","value":{"__type":"Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Attributes":[{"key":"firstname","value":"James"},{"key":"contactid","value":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b"}],"EntityState":null,"FormattedValues":[],"Id":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"contact","RelatedEntities":[],"RowVersion":null}},{"key":"SuppressDuplicateDetection","value":false}],
 "IsExecutingOffline":false,"IsInTransaction":false,"IsOfflinePlayback":false,"IsolationMode":1,"MessageName":"Update","Mode":1,"OperationCreatedOn":"\/Date(1506409448000-0700)\/","OperationId":"4af10637-4ea2-e711-a94d-000d3a1a7a9b",
 "OrganizationId":"4ef5b371-b2a1-e711-a94d-000d3a1a7a9b","OrganizationName":"OrgName","OutputParameters":[],"OwningExtension":{"Id":"75417616-4ea2-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"sdkmessageprocessingstep","Name":null,"RowVersion":null},
 "ParentContext":null,"PostEntityImages":[],"PreEntityImages":[],"PrimaryEntityId":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b","PrimaryEntityName":"contact","RequestId":"c846237f-6775-4e38-927d-baf0858d0cc3","SecondaryEntityName":"none","SharedVariables":[],"Stage":30,"UserId":"75c2dd85-d0a1-e711-a94d-000d3a1a7a9b"},
"PostEntityImages":[{"key":"AsynchronousStepPrimaryName","value":{"Attributes":[{"key":"fullname","value":"James Glynn"},{"key":"contactid","value":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b"}],"EntityState":null,"FormattedValues":[],"Id":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b","KeyAttributes":[],"LogicalName":"contact","RelatedEntities":[],"RowVersion":null}}],
"PreEntityImages":[],"PrimaryEntityId":"6d81597f-0ba2-e711-a94d-000d3a1a7a9b","PrimaryEntityName":"contact","RequestId":null,
"SecondaryEntityName":"none","SharedVariables":[],"Stage":40,"UserId":"75c2dd85-d0a1-e711-a94d-000d3a1a7a9b"}`

	ctxCreate = `{"BusinessUnitId":"41090f9b-d46e-ef11-a670-000d3aa2a990","CorrelationId":"c31a0ebc-a565-4f85-b5ff-34e0742ddba7","Depth":1,"InitiatingUserId":"b1977479-f590-ef11-8a69-000d3ac831e1",
"InputParameters":[{"key":"Target","value":{"__type":"Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Attributes":[
  {"key":"name","value":"Contoso"},
  {"key":"revenue","value":{"__type":"Money:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":20000.0000}},
  {"key":"industrycode","value":{"__type":"OptionSetValue:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":7}},
  {"key":"new_regions","value":[{"__type":"OptionSetValue:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":1},{"__type":"OptionSetValue:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":3}]},
  {"key":"primarycontactid","value":{"__type":"EntityReference:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Id":"c1b2a3d4-0000-4000-8000-000000000001","KeyAttributes":[],"LogicalName":"contact","Name":"Yvonne McKay","RowVersion":null}},
  {"key":"numberofemployees","value":250},
  {"key":"donotphone","value":false},
  {"key":"description","value":null},
  {"key":"accountid","value":"7d577253-3ef0-4a0a-bb7f-8335c2596e70"},
  {"key":"createdon","value":"\/Date(1717236000000)\/"}],
 "EntityState":null,"FormattedValues":[{"key":"industrycode","value":"Consulting"},{"key":"revenue","value":"$20,000.00"}],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}}],
"IsExecutingOffline":false,"IsInTransaction":false,"IsOfflinePlayback":false,"IsolationMode":1,"MessageName":"Create","Mode":1,"OperationCreatedOn":"\/Date(1717236000000)\/","OperationId":"927bf722-c5b6-ef11-a72f-6045bd213099",
"OrganizationId":"29c6e552-e16f-ef11-a66b-6045bd1e7d8b","OrganizationName":"unq29c6e552","OutputParameters":[{"key":"id","value":"7d577253-3ef0-4a0a-bb7f-8335c2596e70"}],
"OwningExtension":{"Id":"e9811dab-abb6-ef11-a72f-6045bd213099","KeyAttributes":[],"LogicalName":"sdkmessageprocessingstep","Name":"account create webhook","RowVersion":null},
"ParentContext":null,
"PostEntityImages":[{"key":"PostImage","value":{"Attributes":[{"key":"name","value":"Contoso"},{"key":"accountnumber","value":"A-1"},{"key":"statecode","value":{"__type":"OptionSetValue:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":0}}],"EntityState":null,"FormattedValues":[{"key":"statecode","value":"Active"}],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":"1234567"}}],
"PreEntityImages":[],"PrimaryEntityId":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","PrimaryEntityName":"account","RequestId":"f2921a3c-5d13-4b80-a809-7df446463f22",
"SecondaryEntityName":"none","SharedVariables":[{"key":"IsAutoTransact","value":true},{"key":"AcceptLang","value":""}],"Stage":40,"UserId":"b1977479-f590-ef11-8a69-000d3ac831e1"}`

	ctxUpdateImages = `{"BusinessUnitId":"41090f9b-d46e-ef11-a670-000d3aa2a990","CorrelationId":"0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c","Depth":2,"InitiatingUserId":"b1977479-f590-ef11-8a69-000d3ac831e1",
"InputParameters":[{"key":"Target","value":{"__type":"Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Attributes":[{"key":"telephone1","value":"555-0100"},{"key":"accountid","value":"7d577253-3ef0-4a0a-bb7f-8335c2596e70"}],"EntityState":null,"FormattedValues":[],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[{"key":"accountnumber","value":"A-1"}],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}},{"key":"ConcurrencyBehavior","value":0}],
"IsExecutingOffline":false,"IsInTransaction":true,"IsOfflinePlayback":false,"IsolationMode":1,"MessageName":"Update","Mode":0,"OperationCreatedOn":"\/Date(1717239600000+0200)\/","OperationId":"00000000-0000-0000-0000-000000000000",
"OrganizationId":"29c6e552-e16f-ef11-a66b-6045bd1e7d8b","OrganizationName":"unq29c6e552","OutputParameters":[],"OwningExtension":{"Id":"e9811dab-abb6-ef11-a72f-6045bd213099","KeyAttributes":[],"LogicalName":"sdkmessageprocessingstep","Name":null,"RowVersion":null},
"ParentContext":null,
"PostEntityImages":[{"key":"after","value":{"Attributes":[{"key":"telephone1","value":"555-0100"},{"key":"name","value":"Contoso"}],"EntityState":null,"FormattedValues":[],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}}],
"PreEntityImages":[{"key":"before","value":{"Attributes":[{"key":"telephone1","value":null},{"key":"name","value":"Contoso"},{"key":"modifiedon","value":"\/Date(1717236000000)\/"}],"EntityState":null,"FormattedValues":[],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}}],
"PrimaryEntityId":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","PrimaryEntityName":"account","RequestId":null,"SecondaryEntityName":"none","SharedVariables":[],"Stage":20,"UserId":"b1977479-f590-ef11-8a69-000d3ac831e1"}`

	ctxDelete = `{"BusinessUnitId":"41090f9b-d46e-ef11-a670-000d3aa2a990","CorrelationId":"5a1f2e3d-4c5b-6a79-8877-665544332211","Depth":1,"InitiatingUserId":"b1977479-f590-ef11-8a69-000d3ac831e1",
"InputParameters":[{"key":"Target","value":{"__type":"EntityReference:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","Name":null,"RowVersion":null}}],
"IsExecutingOffline":false,"IsInTransaction":false,"IsOfflinePlayback":false,"IsolationMode":1,"MessageName":"Delete","Mode":1,"OperationCreatedOn":"\/Date(1717243200000)\/","OperationId":"11111111-2222-3333-4444-555555555555",
"OrganizationId":"29c6e552-e16f-ef11-a66b-6045bd1e7d8b","OrganizationName":"unq29c6e552","OutputParameters":[],"OwningExtension":{"Id":"e9811dab-abb6-ef11-a72f-6045bd213099","KeyAttributes":[],"LogicalName":"sdkmessageprocessingstep","Name":null,"RowVersion":null},
"ParentContext":null,"PostEntityImages":[],
"PreEntityImages":[{"key":"PreImage","value":{"Attributes":[{"key":"name","value":"Contoso"},{"key":"revenue","value":{"__type":"Money:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Value":345.678}}],"EntityState":null,"FormattedValues":[],"Id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}}],
"PrimaryEntityId":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","PrimaryEntityName":"account","RequestId":null,"SecondaryEntityName":"none","SharedVariables":[],"Stage":40,"UserId":"b1977479-f590-ef11-8a69-000d3ac831e1"}`

	ctxCustomAPI = `{"BusinessUnitId":"41090f9b-d46e-ef11-a670-000d3aa2a990","CorrelationId":"c31a0ebc-a565-4f85-b5ff-34e0742ddba7","Depth":1,"InitiatingUserId":"b1977479-f590-ef11-8a69-000d3ac831e1",
"InputParameters":[{"key":"Rows","value":{"__type":"EntityCollection:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Entities":[{"Attributes":[{"key":"name","value":"A"}],"EntityState":null,"FormattedValues":[],"Id":"98982849-096f-ef11-a670-6045bd21f435","KeyAttributes":[],"LogicalName":"account","RelatedEntities":[],"RowVersion":null}],"EntityName":"account","MinActiveRowVersion":null,"MoreRecords":false,"PagingCookie":null,"TotalRecordCount":0,"TotalRecordCountLimitExceeded":false}},
 {"key":"Refs","value":[{"__type":"EntityReference:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","Id":"a4982849-096f-ef11-a670-6045bd21f435","KeyAttributes":[],"LogicalName":"account","Name":null,"RowVersion":null}]},
 {"key":"Names","value":["ABC","DEF"]},
 {"key":"Ratio","value":4.567},
 {"key":"Columns","value":{"__type":"ColumnSet:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","AllColumns":false,"Columns":["name"]}}],
"IsExecutingOffline":false,"IsInTransaction":false,"IsOfflinePlayback":false,"IsolationMode":2,"MessageName":"new_Process","Mode":1,"OperationCreatedOn":"2024-12-10T07:05:29.000Z","OperationId":"927bf722-c5b6-ef11-a72f-6045bd213099",
"OrganizationId":"29c6e552-e16f-ef11-a66b-6045bd1e7d8b","OrganizationName":"unq29c6e552","OutputParameters":[],"ParentContext":null,"PostEntityImages":[],"PreEntityImages":[],
"PrimaryEntityId":"00000000-0000-0000-0000-000000000000","PrimaryEntityName":"none","RequestId":null,"SecondaryEntityName":"none","SharedVariables":[],"Stage":40,"UserId":"b1977479-f590-ef11-8a69-000d3ac831e1"}`
)

// webhookEventOpts compares events without their raw JSON, which each test checks separately.
var webhookEventOpts = cmp.Options{cmpopts.IgnoreFields(Event{}, "Raw"), cmpopts.EquateEmpty()}

func TestDecode(t *testing.T) {
	t.Parallel()
	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	step := &EntityReference{LogicalName: "sdkmessageprocessingstep", ID: "e9811dab-abb6-ef11-a72f-6045bd213099"}
	const acct = "7d577253-3ef0-4a0a-bb7f-8335c2596e70"

	docTarget := &Entity{LogicalName: "contact", ID: "6d81597f-0ba2-e711-a94d-000d3a1a7a9b", Attributes: map[string]any{
		"firstname":  "James",
		"contactid":  "6d81597f-0ba2-e711-a94d-000d3a1a7a9b",
		"modifiedon": ms(1506384247000),
		"modifiedby": &EntityReference{LogicalName: "systemuser", ID: "75c2dd85-d0a1-e711-a94d-000d3a1a7a9b"},
	}}
	parentTarget := &Entity{LogicalName: "contact", ID: "6d81597f-0ba2-e711-a94d-000d3a1a7a9b", Attributes: map[string]any{
		"firstname": "James", "contactid": "6d81597f-0ba2-e711-a94d-000d3a1a7a9b",
	}}
	docStep := &EntityReference{LogicalName: "sdkmessageprocessingstep", ID: "75417616-4ea2-e711-a94d-000d3a1a7a9b"}
	docCommon := func(ev Event) *Event {
		ev.BusinessUnitID = "e2b9dd85-d0a1-e711-a94d-000d3a1a7a9b"
		ev.CorrelationID = "b374239d-4233-41a9-8b17-a3b0ebe4d9a1"
		ev.Depth = 1
		ev.InitiatingUserID = "75c2dd85-d0a1-e711-a94d-000d3a1a7a9b"
		ev.UserID = "75c2dd85-d0a1-e711-a94d-000d3a1a7a9b"
		ev.IsolationMode = 1
		ev.MessageName = "Update"
		ev.Mode = ModeAsynchronous
		ev.OperationCreatedOn = ms(1506409448000)
		ev.OperationID = "4af10637-4ea2-e711-a94d-000d3a1a7a9b"
		ev.OrganizationID = "4ef5b371-b2a1-e711-a94d-000d3a1a7a9b"
		ev.OrganizationName = "OrgName"
		ev.OwningExtension = docStep
		ev.PrimaryEntityID = "6d81597f-0ba2-e711-a94d-000d3a1a7a9b"
		ev.PrimaryEntityName = "contact"
		ev.SecondaryEntityName = "none"
		return &ev
	}
	createTarget := &Entity{LogicalName: "account", ID: acct,
		Attributes: map[string]any{
			"name":              "Contoso",
			"revenue":           Money{Value: "20000.0000"},
			"industrycode":      OptionSetValue{Value: 7},
			"new_regions":       []OptionSetValue{{1}, {3}},
			"primarycontactid":  &EntityReference{LogicalName: "contact", ID: contactID, Name: "Yvonne McKay"},
			"numberofemployees": json.Number("250"),
			"donotphone":        false,
			"description":       nil,
			"accountid":         acct,
			"createdon":         ms(1717236000000),
		},
		FormattedValues: map[string]string{"industrycode": "Consulting", "revenue": "$20,000.00"},
	}
	updateTarget := &Entity{LogicalName: "account", ID: acct,
		Attributes:    map[string]any{"telephone1": "555-0100", "accountid": acct},
		KeyAttributes: map[string]any{"accountnumber": "A-1"},
	}
	deleteTarget := &EntityReference{LogicalName: "account", ID: acct}
	common := func(ev Event) *Event {
		ev.BusinessUnitID = "41090f9b-d46e-ef11-a670-000d3aa2a990"
		ev.InitiatingUserID = "b1977479-f590-ef11-8a69-000d3ac831e1"
		ev.UserID = "b1977479-f590-ef11-8a69-000d3ac831e1"
		ev.OrganizationID = "29c6e552-e16f-ef11-a66b-6045bd1e7d8b"
		ev.OrganizationName = "unq29c6e552"
		ev.SecondaryEntityName = "none"
		if ev.IsolationMode == 0 {
			ev.IsolationMode = 1
		}
		return &ev
	}

	tests := []struct {
		name    string
		body    string
		want    *Event
		wantErr string
	}{
		{
			name: "documented example: async post-operation Update with a parent context",
			body: ctxUpdateDocExample,
			want: docCommon(Event{
				Stage:           StagePostOperation,
				InputParameters: map[string]any{"Target": docTarget},
				Target:          docTarget,
				PostEntityImages: map[string]*Entity{"AsynchronousStepPrimaryName": {LogicalName: "contact", ID: "6d81597f-0ba2-e711-a94d-000d3a1a7a9b",
					Attributes: map[string]any{"fullname": "James Glynn", "contactid": "6d81597f-0ba2-e711-a94d-000d3a1a7a9b"}}},
				ParentContext: docCommon(Event{
					Stage:           StageMainOperation,
					RequestID:       "c846237f-6775-4e38-927d-baf0858d0cc3",
					InputParameters: map[string]any{"Target": parentTarget, "SuppressDuplicateDetection": false},
					Target:          parentTarget,
				}),
			}),
		},
		{
			name: "Create with typed attributes and a post image",
			body: ctxCreate,
			want: common(Event{
				MessageName: "Create", PrimaryEntityName: "account", PrimaryEntityID: acct,
				Stage: StagePostOperation, Mode: ModeAsynchronous, Depth: 1,
				CorrelationID: "c31a0ebc-a565-4f85-b5ff-34e0742ddba7", RequestID: "f2921a3c-5d13-4b80-a809-7df446463f22",
				OperationID: "927bf722-c5b6-ef11-a72f-6045bd213099", OperationCreatedOn: ms(1717236000000),
				OwningExtension:  &EntityReference{LogicalName: "sdkmessageprocessingstep", ID: "e9811dab-abb6-ef11-a72f-6045bd213099", Name: "account create webhook"},
				InputParameters:  map[string]any{"Target": createTarget},
				OutputParameters: map[string]any{"id": acct},
				PostEntityImages: map[string]*Entity{"PostImage": {LogicalName: "account", ID: acct, RowVersion: "1234567",
					Attributes:      map[string]any{"name": "Contoso", "accountnumber": "A-1", "statecode": OptionSetValue{0}},
					FormattedValues: map[string]string{"statecode": "Active"}}},
				SharedVariables: map[string]any{"IsAutoTransact": true, "AcceptLang": ""},
				Target:          createTarget,
			}),
		},
		{
			name: "synchronous pre-operation Update with pre and post images",
			body: ctxUpdateImages,
			want: common(Event{
				MessageName: "Update", PrimaryEntityName: "account", PrimaryEntityID: acct,
				Stage: StagePreOperation, Mode: ModeSynchronous, Depth: 2, IsInTransaction: true,
				CorrelationID: "0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c", OperationID: "00000000-0000-0000-0000-000000000000",
				OperationCreatedOn: ms(1717239600000),
				OwningExtension:    step,
				InputParameters:    map[string]any{"Target": updateTarget, "ConcurrencyBehavior": json.Number("0")},
				PreEntityImages: map[string]*Entity{"before": {LogicalName: "account", ID: acct,
					Attributes: map[string]any{"telephone1": nil, "name": "Contoso", "modifiedon": ms(1717236000000)}}},
				PostEntityImages: map[string]*Entity{"after": {LogicalName: "account", ID: acct,
					Attributes: map[string]any{"telephone1": "555-0100", "name": "Contoso"}}},
				Target: updateTarget,
			}),
		},
		{
			name: "Delete: the target is a reference",
			body: ctxDelete,
			want: common(Event{
				MessageName: "Delete", PrimaryEntityName: "account", PrimaryEntityID: acct,
				Stage: StagePostOperation, Mode: ModeAsynchronous, Depth: 1,
				CorrelationID: "5a1f2e3d-4c5b-6a79-8877-665544332211", OperationID: "11111111-2222-3333-4444-555555555555",
				OperationCreatedOn: ms(1717243200000),
				OwningExtension:    step,
				InputParameters:    map[string]any{"Target": deleteTarget},
				PreEntityImages: map[string]*Entity{"PreImage": {LogicalName: "account", ID: acct,
					Attributes: map[string]any{"name": "Contoso", "revenue": Money{"345.678"}}}},
				TargetReference: deleteTarget,
			}),
		},
		{
			name: "custom API with collections and an unknown contract type",
			body: ctxCustomAPI,
			want: common(Event{
				MessageName: "new_Process", PrimaryEntityName: "none", PrimaryEntityID: "00000000-0000-0000-0000-000000000000",
				Stage: StagePostOperation, Mode: ModeAsynchronous, Depth: 1, IsolationMode: 2,
				CorrelationID: "c31a0ebc-a565-4f85-b5ff-34e0742ddba7", OperationID: "927bf722-c5b6-ef11-a72f-6045bd213099",
				OperationCreatedOn: time.Date(2024, 12, 10, 7, 5, 29, 0, time.UTC),
				InputParameters: map[string]any{
					"Rows":  []*Entity{{LogicalName: "account", ID: "98982849-096f-ef11-a670-6045bd21f435", Attributes: map[string]any{"name": "A"}}},
					"Refs":  []*EntityReference{{LogicalName: "account", ID: "a4982849-096f-ef11-a670-6045bd21f435"}},
					"Names": []any{"ABC", "DEF"},
					"Ratio": json.Number("4.567"),
					"Columns": map[string]any{"__type": "ColumnSet:http://schemas.microsoft.com/xrm/2011/Contracts",
						"AllColumns": false, "Columns": []any{"name"}},
				},
			}),
		},
		{
			name: "minimal context, as the Prismatic component's tests post it",
			body: `{"MessageName":"Create","PrimaryEntityName":"account","PrimaryEntityId":"f1a2b3c4-0000-4000-8000-000000000000","InputParameters":[{"key":"Target","value":{}}],"InitiatingUserId":"user-id-1"}`,
			want: &Event{MessageName: "Create", PrimaryEntityName: "account", PrimaryEntityID: "f1a2b3c4-0000-4000-8000-000000000000",
				InitiatingUserID: "user-id-1", InputParameters: map[string]any{"Target": map[string]any{}}},
		},
		{
			name: "byte order mark and capitalised pairs",
			body: "\ufeff" + `{"SharedVariables":[{"Key":"k","Value":"\/Date(-1000+0100)\/"}]}`,
			want: &Event{SharedVariables: map[string]any{"k": time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)}},
		},
		{name: "not JSON", body: `{"MessageName":`, wantErr: "at byte 15: unexpected end of JSON input"},
		{name: "trailing bracket", body: `{}]`, wantErr: "at byte 3: invalid character ']' after top-level value"},
		{name: "array", body: `[]`, wantErr: "cannot unmarshal array"},
		{name: "null", body: `null`, wantErr: "execution context: want an object, got null"},
		{name: "trailing data", body: `{} {}`, wantErr: "invalid character '{' after top-level value"},
		{name: "parameters not a list", body: `{"InputParameters":{"Target":1}}`, wantErr: "InputParameters: want a key/value list, got an object"},
		{name: "pair without key", body: `{"InputParameters":[{"value":1}]}`, wantErr: "InputParameters[0]: want a string key, got null"},
		{name: "pair not an object", body: `{"OutputParameters":[1]}`, wantErr: "OutputParameters[0]: want a {\"key\":...,\"value\":...} object, got a number"},
		{name: "stage as text", body: `{"Stage":"40"}`, wantErr: "Stage: want an integer, got a string"},
		{name: "fractional depth", body: `{"Depth":1.5}`, wantErr: "Depth: want an integer, got 1.5"},
		{name: "bad date", body: `{"OperationCreatedOn":"yesterday"}`, wantErr: `OperationCreatedOn: "yesterday" is not a date`},
		{name: "image not an entity", body: `{"PreEntityImages":[{"key":"a","value":"x"}]}`, wantErr: "PreEntityImages[0].value: want an entity object, got a string"},
		{name: "option value not an integer", body: `{"InputParameters":[{"key":"Target","value":{"__type":"Entity:x","Attributes":[{"key":"c","value":{"__type":"OptionSetValue:x","Value":"1"}}]}}]}`,
			wantErr: "InputParameters[0].value.Attributes[0].value.Value: want an integer, got a string"},
		{name: "money not a number", body: `{"InputParameters":[{"key":"m","value":{"__type":"Money:x","Value":null}}]}`,
			wantErr: "InputParameters[0].value.Value: want a number, got null"},
		{name: "formatted value not text", body: `{"PostEntityImages":[{"key":"i","value":{"FormattedValues":[{"key":"a","value":1}]}}]}`,
			wantErr: "PostEntityImages[0].value.FormattedValues[0].value: want a string, got a number"},
		{name: "bad parent", body: `{"ParentContext":{"Mode":true}}`, wantErr: "ParentContext.Mode: want an integer, got a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, webhookEventOpts); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if !json.Valid(got.Raw) {
				t.Errorf("Raw is not JSON: %q", got.Raw)
			}
			if got.Target != nil && got.Target.Attributes == nil {
				t.Error("Target.Attributes is nil")
			}
		})
	}
}

func TestDecodeRaw(t *testing.T) {
	t.Parallel()
	ev, err := Decode([]byte(ctxUpdateDocExample))
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Raw) != ctxUpdateDocExample {
		t.Error("Raw is not the body")
	}
	var parent struct{ Stage int }
	if err := json.Unmarshal(ev.ParentContext.Raw, &parent); err != nil || parent.Stage != 30 {
		t.Errorf("ParentContext.Raw = %s (%v), want the parent's JSON", ev.ParentContext.Raw, err)
	}
}

func TestWCFDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"/Date(1506384247000)/", time.Date(2017, 9, 26, 0, 4, 7, 0, time.UTC), true},
		{"/Date(1506409448000-0700)/", time.Date(2017, 9, 26, 7, 4, 8, 0, time.UTC), true},
		{"/Date(1506409448000+0530)/", time.Date(2017, 9, 26, 7, 4, 8, 0, time.UTC), true},
		{"/Date(-62135596800000)/", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"/Date(0)/", time.Unix(0, 0).UTC(), true},
		{"/Date()/", time.Time{}, false},
		{"/Date(12a)/", time.Time{}, false},
		{"/Date(1-07)/", time.Time{}, false},
		{"/Date(99999999999999999999)/", time.Time{}, false},
		{"Date(1)", time.Time{}, false},
		{"2017-09-26T00:04:07Z", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseWCFDate(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("parseWCFDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
