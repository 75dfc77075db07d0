// Package model is the Dataverse model in the middle of the emulator: the schema (tables, columns,
// keys, relationships, options) read from Dataverse metadata documents, the one query model
// (Query and its filter tree) that both front ends build and the store executes, row values
// (exact decimals, lookups, dates), keyset page positions, and the table of Dataverse condition
// operators that OData and FetchXML map onto.
//
// The package imports nothing of the emulator's and nothing that needs cgo, so the parsers that
// build on it compile, test and fuzz with CGO_ENABLED=0.
package model
