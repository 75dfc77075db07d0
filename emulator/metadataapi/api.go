package metadataapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// This file routes the metadata resources: EntityDefinitions (with its Attributes, Keys and
// relationship collections), RelationshipDefinitions, GlobalOptionSetDefinitions and $metadata.
// metadata_read.go answers GETs, metadata_write.go the changes, metadata_ops.go the metadata
// functions and actions, csdl.go the CSDL document.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api

// crmNS is the namespace of Dataverse's types.
const crmNS = "Microsoft.Dynamics.CRM."

// isMetadataPath reports whether a resource path is served by the metadata handlers:
// EntityDefinitions, RelationshipDefinitions, GlobalOptionSetDefinitions and $metadata.
func isMetadataPath(rest string) bool {
	for _, p := range []string{"EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions"} {
		if rest == p || strings.HasPrefix(rest, p+"(") || strings.HasPrefix(rest, p+"/") {
			return true
		}
	}
	return rest == "$metadata"
}

// metaPath is a parsed metadata resource path.
type metaPath struct {
	// set is EntityDefinitions, RelationshipDefinitions or GlobalOptionSetDefinitions.
	set string
	// key addresses one item of the set; keyText is its text as written.
	key     *odata.Key
	keyText string
	// nav is a collection of an entity: Attributes, Keys, ManyToOneRelationships,
	// OneToManyRelationships or ManyToManyRelationships.
	nav        string
	navKey     *odata.Key
	navKeyText string
	// cast is a derived type the last segment casts to, without the namespace
	// (PicklistAttributeMetadata).
	cast string
	// optionSet is OptionSet or GlobalOptionSet when the path goes on from a column cast to a
	// choice type to its option set.
	optionSet string
}

// entityNavs are the collection-valued navigation properties of EntityMetadata.
var entityNavs = map[string]bool{
	"Attributes": true, "Keys": true, "ManyToOneRelationships": true, "OneToManyRelationships": true, "ManyToManyRelationships": true,
}

// parseMetaPath splits and checks a metadata path.
func parseMetaPath(rest string) (*metaPath, error) {
	segs, err := odata.SplitPath(rest)
	if err != nil {
		return nil, err
	}
	p := &metaPath{set: segs[0].Name}
	if segs[0].HasParens {
		if p.key, err = odata.ParseKey(segs[0].Parens); err != nil {
			return nil, err
		}
		p.keyText = segs[0].Parens
	}
	segs = segs[1:]
	if p.set == "EntityDefinitions" && p.key != nil && len(segs) > 0 && entityNavs[segs[0].Name] {
		p.nav = segs[0].Name
		if segs[0].HasParens {
			if p.navKey, err = odata.ParseKey(segs[0].Parens); err != nil {
				return nil, err
			}
			p.navKeyText = segs[0].Parens
		}
		segs = segs[1:]
	}
	if len(segs) > 0 {
		s := segs[0]
		if !strings.HasPrefix(s.Name, crmNS) || s.HasParens {
			return nil, dverr.ResourceNotFound(s.Name)
		}
		p.cast = strings.TrimPrefix(s.Name, crmNS)
		segs = segs[1:]
	}
	if p.set == "EntityDefinitions" && p.cast != "" && p.nav == "" {
		return nil, dverr.ResourceNotFound(crmNS + p.cast)
	}
	if len(segs) > 0 {
		// One column cast to its type may go on to its option set:
		// Attributes(<id>)/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet.
		s := segs[0]
		if p.nav != "Attributes" || p.navKey == nil || p.cast == "" || !optionSetNavs[s.Name] || s.HasParens || len(segs) > 1 {
			return nil, dverr.ResourceNotFound(s.Name)
		}
		p.optionSet = s.Name
	}
	return p, nil
}

// serveMetadata serves table, column, relationship and option set definitions and the CSDL
// document.
func (s *API) serveMetadata(req *webapi.Request, rest string) (*wire.Response, error) {
	if rest == "$metadata" {
		return s.csdl(req)
	}
	p, err := parseMetaPath(rest)
	if err != nil {
		return nil, err
	}
	m := req.R.Method
	if m == http.MethodPatch {
		return nil, dverr.New(http.StatusMethodNotAllowed, dverr.CodeMethodNotAllowed,
			"PATCH method is not supported for metadata entities. Use PUT with the complete definition to update it.")
	}
	switch p.set {
	case "EntityDefinitions":
		switch {
		case p.nav == "" && p.key == nil:
			switch m {
			case http.MethodGet:
				return s.listEntityDefinitions(req)
			case http.MethodPost:
				return s.createEntity(req)
			}
		case p.nav == "":
			switch m {
			case http.MethodGet:
				return s.getEntityDefinition(req, p)
			case http.MethodDelete:
				return s.deleteEntity(req, p)
			case http.MethodPut:
				return nil, dverr.New(http.StatusNotImplemented, dverr.CodeNotSupported, "Updating a table definition is not supported by the emulator.")
			}
		case p.nav == "Attributes":
			switch {
			case m == http.MethodGet:
				return s.getAttributes(req, p)
			case p.optionSet != "":
				// An option set reached through its column is only read here.
			case m == http.MethodPost && p.navKey == nil && p.cast == "":
				return s.createAttribute(req, p)
			case m == http.MethodPut && p.navKey != nil:
				return s.updateAttribute(req, p)
			case m == http.MethodDelete && p.navKey != nil && p.cast == "":
				return s.deleteAttribute(req, p)
			}
		default:
			if m == http.MethodGet {
				return s.getEntityCollection(req, p)
			}
		}
	case "RelationshipDefinitions":
		switch {
		case m == http.MethodGet:
			return s.getRelationships(req, p)
		case m == http.MethodPost && p.key == nil && p.cast == "":
			return s.createRelationship(req)
		case m == http.MethodDelete && p.key != nil && p.cast == "":
			return s.deleteRelationship(req, p)
		}
	case "GlobalOptionSetDefinitions":
		if m == http.MethodGet {
			return s.getOptionSets(req, p)
		}
	}
	return nil, wire.MethodNotAllowed(req.R)
}

// metadataNotFound is the answer for a metadata item that does not exist. The text follows the
// SDK's RetrieveEntity fault ("Could not find an entity with specified entity name: x"); the other
// kinds use the same pattern.
func metadataNotFound(kind, by, value string) error {
	article := "a"
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		article = "an"
	}
	return dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "Could not find %s %s with specified %s: %s", article, kind, by, value)
}

// findEntity resolves EntityDefinitions(<MetadataId>) or EntityDefinitions(LogicalName='x'). A
// bare quoted name (EntityDefinitions('account'), the form context URLs use) is read as a logical
// name too.
func findEntity(sch *model.Schema, k *odata.Key) (*model.Entity, error) {
	if k.Single != nil {
		switch k.Single.Kind {
		case odata.LitGUID:
			id := strings.ToLower(k.Single.Text)
			for _, e := range sch.Entities() {
				if e.MetadataID == id {
					return e, nil
				}
			}
			return nil, metadataNotFound("entity", "MetadataId", id)
		case odata.LitString:
			if e, ok := sch.Entity(k.Single.Text); ok {
				return e, nil
			}
			return nil, metadataNotFound("entity", "entity name", k.Single.Text)
		}
		return nil, badMetadataKey()
	}
	if len(k.Pairs) != 1 || k.Pairs[0].Name != "LogicalName" || k.Pairs[0].Value.Kind != odata.LitString {
		return nil, badMetadataKey()
	}
	name := k.Pairs[0].Value.Text
	if e, ok := sch.Entity(name); ok {
		return e, nil
	}
	return nil, metadataNotFound("entity", "entity name", name)
}

// badMetadataKey is the answer for a key that is neither a MetadataId nor the item's alternate key.
func badMetadataKey() error {
	return dverr.BadRequest("The key of a metadata item must be its MetadataId or its alternate key (LogicalName='name', SchemaName='name' or Name='name').")
}

// findAttribute resolves Attributes(<MetadataId>) or Attributes(LogicalName='x') on e.
func findAttribute(e *model.Entity, k *odata.Key) (*model.Attribute, error) {
	if k.Single != nil {
		if k.Single.Kind != odata.LitGUID {
			return nil, badMetadataKey()
		}
		id := strings.ToLower(k.Single.Text)
		for _, a := range e.Attributes {
			if a.MetadataID == id {
				return a, nil
			}
		}
		return nil, metadataNotFound("attribute", "MetadataId", id)
	}
	if len(k.Pairs) != 1 || k.Pairs[0].Name != "LogicalName" || k.Pairs[0].Value.Kind != odata.LitString {
		return nil, badMetadataKey()
	}
	if a, ok := e.Attribute(k.Pairs[0].Value.Text); ok {
		return a, nil
	}
	return nil, metadataNotFound("attribute", "attribute name", k.Pairs[0].Value.Text)
}

// findRelationship resolves RelationshipDefinitions(<MetadataId>) or (SchemaName='x').
func findRelationship(sch *model.Schema, k *odata.Key) (*model.Relationship, error) {
	if k.Single != nil {
		if k.Single.Kind != odata.LitGUID {
			return nil, badMetadataKey()
		}
		id := strings.ToLower(k.Single.Text)
		for _, r := range sch.Relationships() {
			if r.MetadataID == id {
				return r, nil
			}
		}
		return nil, metadataNotFound("relationship", "MetadataId", id)
	}
	if len(k.Pairs) != 1 || k.Pairs[0].Name != "SchemaName" || k.Pairs[0].Value.Kind != odata.LitString {
		return nil, badMetadataKey()
	}
	if r, ok := sch.Relationship(k.Pairs[0].Value.Text); ok {
		return r, nil
	}
	return nil, metadataNotFound("relationship", "relationship name", k.Pairs[0].Value.Text)
}

// readDefinition reads a metadata definition body: a JSON object, returned as written.
func readDefinition(req *webapi.Request, set string) (json.RawMessage, error) {
	if ct := req.R.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		return nil, dverr.New(http.StatusUnsupportedMediaType, dverr.CodeNone, "The content type '%s' is not supported; send application/json.", ct)
	}
	body, err := webapi.ReadBody(req.R)
	if err != nil {
		return nil, err
	}
	if _, err := webapi.ParseObject(body, set); err != nil {
		return nil, err
	}
	return body, nil
}

// metadataOperation runs a metadata function or action.
func (s *API) metadataOperation(req *webapi.Request) (*wire.Response, error) {
	switch req.Res.Operation {
	case "RetrieveTotalRecordCount":
		return s.retrieveTotalRecordCount(req)
	case "RetrieveMetadataChanges":
		return s.retrieveMetadataChanges(req)
	case "PublishXml", "PublishAllXml":
		return s.publish(req)
	}
	return nil, dverr.ResourceNotFound(req.Res.Operation)
}

// Config is what the metadata API needs from the server.
type Config struct {
	// Store holds the metadata.
	Store *store.Store
	// Web runs requests in their transaction ($batch change sets included).
	Web *webapi.Handler
	// Loose ignores query options Dataverse rejects instead of failing.
	Loose bool
	// Clock and NewID stamp new metadata.
	Clock func() time.Time
	NewID func() string
}

// API serves EntityDefinitions, RelationshipDefinitions, GlobalOptionSetDefinitions,
// $metadata and the metadata functions and actions.
type API struct {
	cfg   Config
	store *store.Store
}

// New returns the metadata API for cfg.
func New(cfg Config) *API {
	return &API{cfg: cfg, store: cfg.Store}
}

// InTx runs fn in the request's transaction.
func (s *API) InTx(req *webapi.Request, write bool, fn func(*store.Tx) error) error {
	return webapi.InTx(s.store, req, write, fn)
}

// Serves reports whether a resource path belongs to the metadata API.
func (s *API) Serves(path string) bool { return isMetadataPath(path) }

// Serve answers a request for a metadata path.
func (s *API) Serve(req *webapi.Request, path string) (*wire.Response, error) {
	return s.serveMetadata(req, path)
}

// Operation answers a metadata function or action.
func (s *API) Operation(req *webapi.Request) (*wire.Response, error) {
	return s.metadataOperation(req)
}

// EntitySets are the metadata entity sets.
func (s *API) EntitySets() []string {
	return []string{"EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions"}
}
