package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Execution contexts shaped like the ones Dataverse posts: the example of webapi.md §9.3 with its
// elisions filled in, then Create, Update and Delete as a post-operation step with images sends
// them, and a custom API with collections.
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

func TestDecodeExecutionContext(t *testing.T) {
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
			name: "webapi.md example: async post-operation Update with a parent context",
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
			name: "minimal context from the seed's tests",
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
			got, err := DecodeExecutionContext([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeExecutionContext: %v", err)
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

func TestDecodeExecutionContextRaw(t *testing.T) {
	t.Parallel()
	ev, err := DecodeExecutionContext([]byte(ctxUpdateDocExample))
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

// postWebhook sends body to h as Dataverse would, with extra headers as name/value pairs.
func postWebhook(h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-ms-dynamics-organization", "org.crm.dynamics.com")
	req.Header.Set("x-ms-dynamics-entity-name", "account")
	req.Header.Set("x-ms-dynamics-request-name", "Create")
	req.Header.Set("x-ms-correlation-request-id", "c31a0ebc-a565-4f85-b5ff-34e0742ddba7")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestWebhookReceiverAuth(t *testing.T) {
	t.Parallel()
	const key = "s3cret-key-value"
	tests := []struct {
		name    string
		auth    WebhookAuth
		target  string
		headers []string
		want    int
	}{
		{name: "no auth configured", target: "/hook", want: 200},
		{name: "key right", auth: WebhookAuth{Key: key}, target: "/hook?code=" + key, want: 200},
		{name: "key wrong", auth: WebhookAuth{Key: key}, target: "/hook?code=s3cret-key-valuf", want: 401},
		{name: "key prefix", auth: WebhookAuth{Key: key}, target: "/hook?code=s3cret", want: 401},
		{name: "key missing", auth: WebhookAuth{Key: key}, target: "/hook", want: 401},
		{name: "key empty", auth: WebhookAuth{Key: key}, target: "/hook?code=", want: 401},
		{name: "key repeated", auth: WebhookAuth{Key: key}, target: "/hook?code=" + key + "&code=x", want: 401},
		{name: "key under the seed's Auth alias", auth: WebhookAuth{Key: key}, target: "/hook?Auth=" + key, want: 401},
		{name: "key in a header", auth: WebhookAuth{Key: key}, target: "/hook", headers: []string{"code", key}, want: 401},
		{name: "headers right", auth: WebhookAuth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key, "x-tenant", "t1"}, want: 200},
		{name: "headers one wrong", auth: WebhookAuth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key, "x-tenant", "t2"}, want: 401},
		{name: "headers one missing", auth: WebhookAuth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key}, want: 401},
		{name: "header in the query", auth: WebhookAuth{Headers: map[string]string{"x-functions-key": key}},
			target: "/hook?x-functions-key=" + key, want: 401},
		{name: "query right", auth: WebhookAuth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1&Key2=Value%202", want: 200},
		{name: "query wrong", auth: WebhookAuth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1&Key2=Value3", want: 401},
		{name: "query missing", auth: WebhookAuth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1", want: 401},
		{name: "query name is case-sensitive", auth: WebhookAuth{Query: map[string]string{"Key1": "Value1"}},
			target: "/hook?key1=Value1", want: 401},
		{name: "query expects an empty value: present", auth: WebhookAuth{Query: map[string]string{"flag": ""}},
			target: "/hook?flag=", want: 200},
		{name: "query expects an empty value: absent", auth: WebhookAuth{Query: map[string]string{"flag": ""}},
			target: "/hook", want: 401},
		{name: "combined: all right", auth: WebhookAuth{Key: key, Headers: map[string]string{"X-A": "a"}, Query: map[string]string{"q": "1"}},
			target: "/hook?code=" + key + "&q=1", headers: []string{"X-A", "a"}, want: 200},
		{name: "combined: one wrong", auth: WebhookAuth{Key: key, Headers: map[string]string{"X-A": "a"}, Query: map[string]string{"q": "1"}},
			target: "/hook?code=" + key + "&q=2", headers: []string{"X-A", "a"}, want: 401},
		{name: "URL validation needs auth too", auth: WebhookAuth{Key: key}, target: "/hook",
			headers: []string{"x-ms-dynamics-request-name", "URL_VALIDATION"}, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := NewWebhookReceiver(tt.auth, func(ctx context.Context, ev *Event) error {
				calls.Add(1)
				return nil
			})
			rec := postWebhook(h, http.MethodPost, tt.target, ctxCreate, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tt.want, rec.Body)
			}
			wantCalls := int32(0)
			if tt.want == 200 && !strings.Contains(strings.Join(tt.headers, " "), "URL_VALIDATION") {
				wantCalls = 1
			}
			if got := calls.Load(); got != wantCalls {
				t.Errorf("handler called %d times, want %d", got, wantCalls)
			}
			if tt.want == 401 {
				body := rec.Body.String()
				for _, secret := range []string{key, "Value1", "Value 2", "t1", "a"} {
					if secret != "a" && strings.Contains(body, secret) {
						t.Errorf("401 body %q leaks %q", body, secret)
					}
				}
				if body != "unauthorized\n" {
					t.Errorf("401 body = %q, want a fixed text", body)
				}
			}
		})
	}
}

// Every configured secret is compared, through the constant-time comparison, even when the first
// one already failed: the time taken says neither which secret was wrong nor how much of it.
func TestWebhookSecretsComparedInConstantTime(t *testing.T) {
	t.Parallel()
	auth := WebhookAuth{
		Key:     "k",
		Headers: map[string]string{"X-One": "1", "X-Two": "2"},
		Query:   map[string]string{"q": "3"},
	}
	tests := []struct {
		name    string
		target  string
		headers []string
		want    int
	}{
		{name: "all right", target: "/?code=k&q=3", headers: []string{"X-One", "1", "X-Two", "2"}, want: 200},
		{name: "key wrong", target: "/?code=x&q=3", headers: []string{"X-One", "1", "X-Two", "2"}, want: 401},
		{name: "everything missing", target: "/", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wr := NewWebhookReceiver(auth, nil)
			var mu sync.Mutex
			var compared []string
			wr.equal = func(got, want string) bool {
				mu.Lock()
				compared = append(compared, want)
				mu.Unlock()
				return secretEqual(got, want)
			}
			rec := postWebhook(wr, http.MethodPost, tt.target, ctxCreate, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if diff := cmp.Diff([]string{"1", "2", "3", "k"}, compared, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("secrets compared (-want +got):\n%s", diff)
			}
		})
	}

	for _, c := range []struct {
		a, b string
		want bool
	}{{"", "", true}, {"abc", "abc", true}, {"abc", "abd", false}, {"abc", "abcd", false}, {"", "x", false}} {
		if got := secretEqual(c.a, c.b); got != c.want {
			t.Errorf("secretEqual(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestWebhookReceiver(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom: database password is hunter2")
	tests := []struct {
		name      string
		method    string
		body      string
		headers   []string
		handleErr error
		panics    bool
		opts      []WebhookOption
		want      int
		wantCall  bool
		wantBody  string
		wantAllow string
	}{
		{name: "event", method: "POST", body: ctxCreate, want: 200, wantCall: true},
		{name: "URL validation", method: "POST", body: "", headers: []string{"x-ms-dynamics-request-name", "URL_VALIDATION"}, want: 200},
		{name: "URL validation with a body", method: "POST", body: "not json", headers: []string{"x-ms-dynamics-request-name", "url_validation"}, want: 200},
		{name: "empty POST is a probe", method: "POST", body: "  \r\n", want: 200},
		{name: "GET probe", method: "GET", want: 200},
		{name: "HEAD probe", method: "HEAD", want: 200},
		{name: "PUT", method: "PUT", body: ctxCreate, want: 405, wantAllow: "POST, GET, HEAD"},
		{name: "DELETE", method: "DELETE", want: 405, wantAllow: "POST, GET, HEAD"},
		{name: "bad JSON", method: "POST", body: `{"MessageName":`, want: 400},
		{name: "not a context", method: "POST", body: `{"Stage":"x"}`, want: 400, wantBody: "Stage: want an integer"},
		{name: "oversize body", method: "POST", body: ctxCreate, opts: []WebhookOption{WithMaxBodyBytes(100)}, want: 413},
		{name: "body at the limit", method: "POST", body: ctxCreate, opts: []WebhookOption{WithMaxBodyBytes(int64(len(ctxCreate)))}, want: 200, wantCall: true},
		{name: "handler error", method: "POST", body: ctxCreate, handleErr: errBoom, want: 500, wantCall: true, wantBody: "event handler failed\n"},
		{name: "handler panic", method: "POST", body: ctxCreate, panics: true, want: 500, wantCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *Event
			var reported error
			opts := append([]WebhookOption{WithHandlerErrors(func(ctx context.Context, ev *Event, err error) { reported = err })}, tt.opts...)
			h := NewWebhookReceiver(WebhookAuth{}, func(ctx context.Context, ev *Event) error {
				got = ev
				if tt.panics {
					panic("handler bug")
				}
				return tt.handleErr
			}, opts...)
			rec := postWebhook(h, tt.method, "/hook", tt.body, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tt.want, rec.Body)
			}
			if (got != nil) != tt.wantCall {
				t.Errorf("handler called = %v, want %v", got != nil, tt.wantCall)
			}
			if tt.want == 200 && rec.Body.Len() != 0 {
				t.Errorf("body = %q, want empty", rec.Body)
			}
			if tt.wantBody != "" && !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tt.wantBody)
			}
			if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "handler bug") {
				t.Errorf("body %q leaks the handler's error", rec.Body)
			}
			if a := rec.Header().Get("Allow"); a != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", a, tt.wantAllow)
			}
			if tt.handleErr != nil && !errors.Is(reported, tt.handleErr) {
				t.Errorf("error handler got %v, want %v", reported, tt.handleErr)
			}
			if tt.panics && (reported == nil || !strings.Contains(reported.Error(), "handler bug")) {
				t.Errorf("error handler got %v, want the panic", reported)
			}
		})
	}
}

func TestWebhookEventHeaders(t *testing.T) {
	t.Parallel()
	type seenCtx struct{}
	var got *Event
	var gotCtx any
	h := NewWebhookReceiver(WebhookAuth{Headers: map[string]string{"x-functions-key": "secret"}},
		func(ctx context.Context, ev *Event) error {
			got, gotCtx = ev, ctx.Value(seenCtx{})
			return nil
		})
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(ctxUpdateImages))
	req = req.WithContext(context.WithValue(req.Context(), seenCtx{}, "request context"))
	req.Header.Set("X-Functions-Key", "secret")
	req.Header.Set("x-ms-dynamics-organization", "org.crm.dynamics.com")
	req.Header.Set("x-ms-dynamics-entity-name", "account")
	req.Header.Set("x-ms-dynamics-request-name", "Update")
	req.Header.Set("x-ms-correlation-request-id", "0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c")
	req.Header.Set("x-ms-dynamics-msg-size-exceeded", "true")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	if gotCtx != "request context" {
		t.Error("handler did not get the request's context")
	}
	want := http.Header{
		"X-Ms-Dynamics-Organization":      {"org.crm.dynamics.com"},
		"X-Ms-Dynamics-Entity-Name":       {"account"},
		"X-Ms-Dynamics-Request-Name":      {"Update"},
		"X-Ms-Correlation-Request-Id":     {"0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c"},
		"X-Ms-Dynamics-Msg-Size-Exceeded": {"true"},
	}
	if diff := cmp.Diff(want, got.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if !got.SizeExceeded {
		t.Error("SizeExceeded = false")
	}
	if got.Target == nil || got.Target.Attributes["telephone1"] != "555-0100" {
		t.Errorf("Target = %+v", got.Target)
	}
}

func TestWebhookAsync(t *testing.T) {
	t.Parallel()
	const workers, events = 2, 6
	release := make(chan struct{})
	var running, maxRunning, done atomic.Int32
	var errMu sync.Mutex
	var errs []error
	type key struct{}
	h := NewWebhookReceiver(WebhookAuth{Key: "k"}, func(ctx context.Context, ev *Event) error {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		done.Add(1)
		if ctx.Err() != nil {
			return fmt.Errorf("handler context cancelled: %w", ctx.Err())
		}
		if ctx.Value(key{}) != "v" {
			return errors.New("request values lost")
		}
		return errors.New("async failure")
	}, WithAsyncHandling(workers), WithHandlerErrors(func(ctx context.Context, ev *Event, err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, "v")))
	}))
	defer srv.Close()

	post := func() (int, error) {
		resp, err := http.Post(srv.URL+"/?code=k", "application/json", strings.NewReader(ctxCreate))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	// The first events are acknowledged while their handlers are still blocked.
	for i := range workers {
		if code, err := post(); err != nil || code != 200 {
			t.Fatalf("event %d: %d, %v", i, code, err)
		}
	}
	// The rest wait for a free worker before they are acknowledged.
	var wg sync.WaitGroup
	codes := make(chan int, events)
	for range events - workers {
		wg.Go(func() {
			code, err := post()
			if err != nil {
				t.Error(err)
			}
			codes <- code
		})
	}
	time.Sleep(50 * time.Millisecond) // let the waiting requests arrive; the assertions below hold regardless
	if n := len(codes); n != 0 {
		t.Errorf("%d events acknowledged while every worker was busy", n)
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("status = %d, want 200", code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got := done.Load(); got != events {
		t.Errorf("%d handlers ran, want %d", got, events)
	}
	if got := maxRunning.Load(); got > workers {
		t.Errorf("%d handlers ran at once, want at most %d", got, workers)
	}
	errMu.Lock()
	defer errMu.Unlock()
	if len(errs) != events {
		t.Fatalf("%d errors reported, want %d", len(errs), events)
	}
	for _, err := range errs {
		if err.Error() != "async failure" {
			t.Errorf("reported error = %v, want the handler's own", err)
		}
	}
}

func TestWebhookAsyncBadRequestsAreNotAcknowledged(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := NewWebhookReceiver(WebhookAuth{}, func(ctx context.Context, ev *Event) error {
		calls.Add(1)
		return nil
	}, WithAsyncHandling(1))
	if rec := postWebhook(h, http.MethodPost, "/", `{"Stage":"x"}`); rec.Code != 400 {
		t.Errorf("bad context: status = %d, want 400", rec.Code)
	}
	if rec := postWebhook(h, http.MethodPost, "/", ctxDelete); rec.Code != 200 {
		t.Errorf("good context: status = %d, want 200", rec.Code)
	}
	if err := h.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("handler called %d times, want 1", calls.Load())
	}
}

func TestWebhookWaitHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := NewWebhookReceiver(WebhookAuth{}, func(ctx context.Context, ev *Event) error {
		<-release
		return nil
	}, WithAsyncHandling(1))
	defer close(release)
	if rec := postWebhook(h, http.MethodPost, "/", ctxCreate); rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func FuzzDecodeExecutionContext(f *testing.F) {
	for _, s := range []string{
		ctxUpdateDocExample, ctxCreate, ctxUpdateImages, ctxDelete, ctxCustomAPI,
		`{}`, `null`, `[]`, `{"InputParameters":[{"key":"a","value":[{"__type":"OptionSetValue:x","Value":1}]}]}`,
		`{"ParentContext":{"ParentContext":{"Stage":1}}}`, `{"OperationCreatedOn":"\/Date(-9223372036854775808)\/"}`,
		`{"SharedVariables":[{"key":"x","value":{"__type":"EntityCollection:x","Entities":[null]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeExecutionContext(body)
		if err != nil {
			if ev != nil {
				t.Fatal("event and error both returned")
			}
			if !strings.HasPrefix(err.Error(), "client: decode execution context: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if !json.Valid(ev.Raw) {
			t.Fatalf("Raw is not JSON")
		}
		if ev.Target != nil && ev.TargetReference != nil {
			t.Fatal("both Target and TargetReference set")
		}
		if ev.Target != nil && ev.Target.Attributes == nil {
			t.Fatal("Target.Attributes is nil")
		}
	})
}

// A receiver for a webhook registered with WebhookKey authentication: Dataverse posts each event to
// the registered URL with ?code=<key>.
func ExampleNewWebhookReceiver() {
	receiver := NewWebhookReceiver(WebhookAuth{Key: "webhook-key"}, func(ctx context.Context, ev *Event) error {
		fmt.Println(ev.MessageName, ev.PrimaryEntityName, ev.PrimaryEntityID)
		fmt.Println(ev.Target.Attributes["name"], ev.Target.Attributes["revenue"], ev.Target.Attributes["industrycode"])
		fmt.Println(ev.PostEntityImages["PostImage"].FormattedValues["statecode"])
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/dataverse/events", receiver)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What Dataverse sends.
	resp, err := http.Post(srv.URL+"/dataverse/events?code=webhook-key", "application/json", strings.NewReader(ctxCreate))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// A caller without the key.
	resp, err = http.Post(srv.URL+"/dataverse/events", "application/json", strings.NewReader(ctxCreate))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// Create account 7d577253-3ef0-4a0a-bb7f-8335c2596e70
	// Contoso {20000.0000} {7}
	// Active
	// 200 OK
	// 401 Unauthorized
}
