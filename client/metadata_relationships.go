package client

import (
	"context"
	"fmt"
	"net/http"
)

// RelationshipKind names one of a table's relationship collections.
type RelationshipKind string

// The relationship collections of a table (EntityMetadata navigation properties).
const (
	OneToManyRelationships  RelationshipKind = "OneToManyRelationships"
	ManyToOneRelationships  RelationshipKind = "ManyToOneRelationships"
	ManyToManyRelationships RelationshipKind = "ManyToManyRelationships"
)

// relationshipTypes are the @odata.type of each collection's items.
var relationshipTypes = map[RelationshipKind]string{
	OneToManyRelationships:  "#" + metadataNamespace + "OneToManyRelationshipMetadata",
	ManyToOneRelationships:  "#" + metadataNamespace + "OneToManyRelationshipMetadata",
	ManyToManyRelationships: "#" + metadataNamespace + "ManyToManyRelationshipMetadata",
}

// ListEntityRelationships returns the full definitions of one kind of relationship of a table (named
// as in GetEntityMetadata). A collection only holds items of its declared type, so Dataverse leaves
// out their @odata.type; it is filled in here so that each definition stands on its own, as
// RelationshipDefinitions(...) returns it.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieve-relationships
func (c *Client) ListEntityRelationships(ctx context.Context, entity string, kind RelationshipKind) ([]Record, *Response, error) {
	typ, ok := relationshipTypes[kind]
	if !ok {
		return nil, nil, fmt.Errorf("client: unknown relationship kind %q: want OneToManyRelationships, ManyToOneRelationships or ManyToManyRelationships: %w", kind, ErrInvalidInput)
	}
	list, resp, err := onEntity(ctx, c, entity, func(path string) ([]Record, *Response, error) {
		return c.getMetadataList(ctx, c.apiRequest(http.MethodGet, path+"/"+string(kind), nil))
	})
	if err != nil {
		return nil, resp, err
	}
	for _, r := range list {
		if _, ok := r["@odata.type"]; !ok {
			r["@odata.type"] = typ
		}
	}
	return list, resp, nil
}

// ListGlobalOptionSets returns the full definitions of the global choices (option sets shared by
// columns), OptionSetMetadata and BooleanOptionSetMetadata alike.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieve-global-option-sets
func (c *Client) ListGlobalOptionSets(ctx context.Context) ([]Record, *Response, error) {
	return c.getMetadataList(ctx, c.apiRequest(http.MethodGet, "GlobalOptionSetDefinitions", nil))
}
