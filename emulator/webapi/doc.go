// Package webapi serves the Dataverse Web API's data: records (create, retrieve, update, upsert,
// delete, single properties), collections with OData queries, references ($ref), FetchXML over GET,
// functions such as WhoAmI, and $batch with atomic change sets, together with the write pipeline
// behind them (body decoding, system columns, cascades, webhook steps).
//
// A request arrives authenticated: Handler.Serve takes the caller. Query text is parsed whole by
// package odata (or fetchxml) before any SQL runs; handlers only execute against package store,
// one transaction per request or per $batch change set, and return errors for the server to render.
// Metadata paths and operations go to an Extension (package metadataapi).
package webapi
