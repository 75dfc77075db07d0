// Package client is a Go client for the Microsoft Dataverse (Dynamics 365) Web API. It talks to a real
// tenant or to the dynlocal emulator in exactly the same way; only the org URL and the credentials change.
//
// A Client is built from the org root and functional options:
//
//	c, err := client.New("https://org.crm.dynamics.com",
//		client.WithClientCredentials(tokenURL, clientID, clientSecret))
//
// Every action takes a context first and returns its result, a *Response (status, headers, ETag, the id
// from OData-EntityId, ...) and an error, in the style of go-github:
//
//	_, resp, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Contoso"}, nil)
//	// resp.ID holds the new accountid
//
// # Records
//
// Rows are [Record] values (map[string]any). An absent key is left alone by the service, a nil value is
// sent as JSON null, and numbers come back as [encoding/json.Number] so that money and decimal columns
// keep their scale ("20000.0000").
//
// # Keys
//
// Wherever a key is taken it is either a primary key GUID (curly braces tolerated) or an alternate key
// such as accountnumber='A1'. Build alternate keys with [AlternateKey], which quotes and escapes values.
// Anything else is rejected before a request is made, with an error that wraps [ErrInvalidInput].
//
// # Table and column metadata
//
// The metadata actions (ListEntityTypes, ListEntities, GetEntitiesMetadata, GetEntityMetadata,
// ListAttributes, GetAttribute, QueryAttributes, CreateAttribute, UpdateAttribute, CreateEntity and
// the deletes) name a table by its logical name (account), its MetadataId or its entity set name
// (accounts). A name is tried as a logical name first; on a 404 it is looked up as an entity set name
// and the call is repeated with that table's MetadataId, so only set names cost an extra request.
// Results come as [EntityDefinition] and [AttributeDefinition], which type the common properties and
// keep the whole definition in Raw. Column types are given as [AttributeType] names such as "Money",
// which the client turns into the cast Dataverse needs; [AttributeSpec], [EntitySpec] and [Label]
// build definitions to send.
//
// # Queries, FetchXML and batches
//
// [Client.QueryRecords] reads one page of an OData query and [Client.QueryPages] / [Client.QueryAll]
// walk every page, bounded by QueryOptions.MaxPages. [Client.FetchXML] runs FetchXML; its iterators
// always ask for the paging cookie, so they page whether or not the caller asked for annotations.
// [Client.Batch] sends up to 1,000 create/update/upsert/delete actions, by default as one atomic change
// set, and maps each answer back to its action.
//
// # Webhooks and polling
//
// Package [github.com/dynlocal/dynlocal/client/webhook] receives Dataverse webhooks: its Receiver is
// an http.Handler that checks the key, header or query string secret in constant time and decodes the
// execution context. It does not need a Client. [Client.PollChanges] reports rows created and updated since a cursor, without losing or repeating
// rows that share a modifiedon second.
//
// # Errors
//
// Error responses from the service come back as *[Error], carrying the HTTP status, the Dataverse hex
// code and message, and Retry-After. They match the sentinels [ErrNotFound], [ErrPreconditionFailed],
// [ErrUnauthorized], [ErrForbidden] and [ErrTooManyRequests] with [errors.Is]. A 304 Not Modified is not
// an error. Failures to obtain an access token come back as *[TokenError].
//
// # Authentication
//
// Tokens come from golang.org/x/oauth2 token sources: client credentials ([WithClientCredentials]),
// authorization code with refresh ([WithAuthorizationCode], and [AuthCodeFlow] to run the code exchange
// with PKCE), any [golang.org/x/oauth2.TokenSource] ([WithTokenSource]) or a fixed token
// ([WithStaticToken]). A token is fetched once and reused until it is about to expire; the context of
// the request that needs a new token governs the token call.
//
// # Retries
//
// By default only throttling is retried: a 429 Too Many Requests answer, whatever the method ($batch
// included, since Dataverse refuses a throttled request before running it), is sent again up to
// [DefaultThrottleRetries] times after the Retry-After the service asked for, however long. [WithRetry]
// sets a client-wide [RetryPolicy] and [RawRequest.Retry] one per call: how many 429s and other
// failures to retry, fixed or exponential delay (jittered, and capped by MaxDelay), Retry-After
// honoured on 429 and 503, every wait cancellable through the context, and writes (POST, PATCH) left
// alone on other failures unless the policy asks for them.
package client
