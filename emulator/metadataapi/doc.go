// Package metadataapi serves the Dataverse metadata API: EntityDefinitions with their Attributes,
// Keys and relationships, RelationshipDefinitions, GlobalOptionSetDefinitions, the $metadata CSDL
// document, metadata writes (tables, columns, relationships) and the metadata functions and actions
// (RetrieveMetadataChanges, RetrieveTotalRecordCount, PublishXml). It plugs into package webapi as
// its Extension and shares its request type and transactions.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
package metadataapi
