package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/dynlocal/dynlocal/client"
)

// The metadata actions call the client's table and column methods (client/metadata*.go). Their
// inputs mirror the methods' arguments and options. What a step sees:
//
//   - GetEntityMetadata and GetAttribute: the definition as returned (Raw).
//   - QueryAttributes: {"value": [definitions, in the service's order]}.
//   - ListAttributes: the client's AttributeList: counts, byType, the primary columns and
//     "attributes" (the definitions, sorted by LogicalName).
//   - ListEntities: the client's EntityList: counts and "entities" (the definitions, sorted by
//     SchemaName).
//   - ListEntityTypes: the client's EntityTypeList (entities, totalCount, nextLink, hasMore).
//   - GetEntitiesMetadata: {"value": [{"object", "defaultSelected", "fields"}]}.
//   - CreateAttribute and CreateEntity: {"id": the MetadataId the client returned}.
//   - UpdateAttribute, DeleteAttribute and DeleteEntity: no body (204).

// entityMetadataInput names a table as the client takes it (a logical name, a MetadataId, an entity
// set name or an alternate key such as LogicalName='account'), with $select and $expand.
type entityMetadataInput struct {
	Entity string        `json:"entity"`
	Select []string      `json:"select,omitempty"`
	Expand []expandInput `json:"expand,omitempty"`
}

type listEntityTypesInput struct {
	PageSize int    `json:"pageSize,omitempty"`
	NextLink string `json:"nextLink,omitempty"`
}

type listEntitiesInput struct {
	ExcludeCustom bool `json:"excludeCustom,omitempty"`
	TopLevelOnly  bool `json:"topLevelOnly,omitempty"`
	Details       bool `json:"details,omitempty"`
}

type entitiesMetadataInput struct {
	Names           []string `json:"names,omitempty"`
	ExcludeCustom   bool     `json:"excludeCustom,omitempty"`
	TopLevelOnly    bool     `json:"topLevelOnly,omitempty"`
	DefaultSelected []string `json:"defaultSelected,omitempty"`
	Concurrency     int      `json:"concurrency,omitempty"`
}

type listAttributesInput struct {
	Entity      string `json:"entity"`
	Type        string `json:"type,omitempty"`
	Details     bool   `json:"details,omitempty"`
	LabeledOnly bool   `json:"labeledOnly,omitempty"`
}

type queryAttributesInput struct {
	Entity string        `json:"entity"`
	Type   string        `json:"type,omitempty"`
	Select []string      `json:"select,omitempty"`
	Filter string        `json:"filter,omitempty"`
	Expand []expandInput `json:"expand,omitempty"`
}

type getAttributeInput struct {
	Entity    string        `json:"entity"`
	Attribute string        `json:"attribute"`
	Type      string        `json:"type,omitempty"`
	Select    []string      `json:"select,omitempty"`
	Expand    []expandInput `json:"expand,omitempty"`
}

// choiceOptionInput mirrors client.ChoiceOption.
type choiceOptionInput struct {
	Value       int    `json:"value"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	Color       string `json:"color,omitempty"`
}

// attributeSpecInput mirrors client.AttributeSpec; the optional numbers are absent unless given.
type attributeSpecInput struct {
	Type             string              `json:"type"`
	SchemaName       string              `json:"schemaName"`
	DisplayName      string              `json:"displayName,omitempty"`
	Description      string              `json:"description,omitempty"`
	LanguageCode     int                 `json:"languageCode,omitempty"`
	RequiredLevel    string              `json:"requiredLevel,omitempty"`
	IsPrimaryName    bool                `json:"isPrimaryName,omitempty"`
	MaxLength        int                 `json:"maxLength,omitempty"`
	Format           string              `json:"format,omitempty"`
	DateTimeBehavior string              `json:"dateTimeBehavior,omitempty"`
	MinValue         *float64            `json:"minValue,omitempty"`
	MaxValue         *float64            `json:"maxValue,omitempty"`
	Precision        *int                `json:"precision,omitempty"`
	PrecisionSource  *int                `json:"precisionSource,omitempty"`
	Options          []choiceOptionInput `json:"options,omitempty"`
	GlobalOptionSet  string              `json:"globalOptionSet,omitempty"`
	TrueLabel        string              `json:"trueLabel,omitempty"`
	FalseLabel       string              `json:"falseLabel,omitempty"`
	DefaultValue     bool                `json:"defaultValue,omitempty"`
	MaxSizeInKB      int                 `json:"maxSizeInKB,omitempty"`
	Extra            map[string]any      `json:"extra,omitempty"`
}

func (s *attributeSpecInput) spec() client.AttributeSpec {
	out := client.AttributeSpec{
		Type: client.AttributeType(s.Type), SchemaName: s.SchemaName, DisplayName: s.DisplayName,
		Description: s.Description, LanguageCode: s.LanguageCode, RequiredLevel: s.RequiredLevel,
		IsPrimaryName: s.IsPrimaryName, MaxLength: s.MaxLength, Format: s.Format,
		DateTimeBehavior: s.DateTimeBehavior, GlobalOptionSet: s.GlobalOptionSet,
		TrueLabel: s.TrueLabel, FalseLabel: s.FalseLabel, DefaultValue: s.DefaultValue,
		MaxSizeInKB: s.MaxSizeInKB,
	}
	if s.MinValue != nil {
		out.MinValue = client.Some(*s.MinValue)
	}
	if s.MaxValue != nil {
		out.MaxValue = client.Some(*s.MaxValue)
	}
	if s.Precision != nil {
		out.Precision = client.Some(*s.Precision)
	}
	if s.PrecisionSource != nil {
		out.PrecisionSource = client.Some(*s.PrecisionSource)
	}
	for _, o := range s.Options {
		out.Options = append(out.Options, client.ChoiceOption{Value: o.Value, Label: o.Label, Description: o.Description, Color: o.Color})
	}
	if s.Extra != nil {
		out.Extra = client.Record(s.Extra)
	}
	return out
}

// entitySpecInput mirrors client.EntitySpec.
type entitySpecInput struct {
	SchemaName            string             `json:"schemaName"`
	DisplayName           string             `json:"displayName"`
	DisplayCollectionName string             `json:"displayCollectionName"`
	Description           string             `json:"description,omitempty"`
	LanguageCode          int                `json:"languageCode,omitempty"`
	OwnershipType         string             `json:"ownershipType,omitempty"`
	IsActivity            bool               `json:"isActivity,omitempty"`
	HasActivities         bool               `json:"hasActivities,omitempty"`
	HasNotes              bool               `json:"hasNotes,omitempty"`
	PrimaryName           attributeSpecInput `json:"primaryName"`
	Extra                 map[string]any     `json:"extra,omitempty"`
}

func (s *entitySpecInput) spec() client.EntitySpec {
	out := client.EntitySpec{
		SchemaName: s.SchemaName, DisplayName: s.DisplayName, DisplayCollectionName: s.DisplayCollectionName,
		Description: s.Description, LanguageCode: s.LanguageCode, OwnershipType: s.OwnershipType,
		IsActivity: s.IsActivity, HasActivities: s.HasActivities, HasNotes: s.HasNotes,
		PrimaryName: s.PrimaryName.spec(),
	}
	if s.Extra != nil {
		out.Extra = client.Record(s.Extra)
	}
	return out
}

// definitionInput is a definition given either as JSON (sent as it is, the way the Dataverse docs
// print it) or as a spec the client renders.
type definitionInput[S any] struct {
	Definition map[string]any `json:"definition,omitempty"`
	Spec       *S             `json:"spec,omitempty"`
}

func (d *definitionInput[S]) checkOne() error {
	if (d.Definition == nil) == (d.Spec == nil) {
		return errors.New("give exactly one of definition and spec")
	}
	return nil
}

type createAttributeInput struct {
	Entity string `json:"entity"`
	definitionInput[attributeSpecInput]
	SolutionUniqueName string `json:"solutionUniqueName,omitempty"`
}

// schemaName is the SchemaName of the new column, "" when the input does not say.
func (in *createAttributeInput) schemaName() string {
	if in.Spec != nil {
		return in.Spec.SchemaName
	}
	s, _ := in.Definition["SchemaName"].(string)
	return s
}

func (in *createAttributeInput) definition() client.Definition {
	if in.Spec != nil {
		return in.Spec.spec()
	}
	return client.Record(in.Definition)
}

type updateAttributeInput struct {
	Entity    string `json:"entity"`
	Attribute string `json:"attribute,omitempty"`
	definitionInput[attributeSpecInput]
	MergeLabels        bool   `json:"mergeLabels,omitempty"`
	SolutionUniqueName string `json:"solutionUniqueName,omitempty"`
}

type createEntityInput struct {
	definitionInput[entitySpecInput]
	SolutionUniqueName string `json:"solutionUniqueName,omitempty"`
}

func (in *createEntityInput) schemaName() string {
	if in.Spec != nil {
		return in.Spec.SchemaName
	}
	s, _ := in.Definition["SchemaName"].(string)
	return s
}

type deleteAttributeInput struct {
	Entity    string `json:"entity"`
	Attribute string `json:"attribute"`
}

type deleteEntityInput struct {
	Entity string `json:"entity"`
}

func init() {
	for name, a := range metadataActions {
		if _, dup := actions[name]; dup {
			panic("contracts: action " + name + " defined twice")
		}
		actions[name] = a
	}
}

// metadataActions are the actions of the client's table and column methods.
var metadataActions = map[string]action{
	"ListEntityTypes": {
		newInput: func() any { return &listEntityTypesInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*listEntityTypesInput)
			list, resp, err := c.ListEntityTypes(ctx, &client.ListEntityTypesOptions{PageSize: in.PageSize, NextLink: in.NextLink})
			return observeValue(list, resp, err)
		},
	},
	"ListEntities": {
		newInput: func() any { return &listEntitiesInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*listEntitiesInput)
			list, resp, err := c.ListEntities(ctx, &client.ListEntitiesOptions{
				ExcludeCustom: in.ExcludeCustom, TopLevelOnly: in.TopLevelOnly, Details: in.Details,
			})
			var body any
			if list != nil {
				body = map[string]any{
					"entities":    entityRaws(list.Entities),
					"totalCount":  count(list.TotalCount),
					"customCount": count(list.CustomCount),
					"systemCount": count(list.SystemCount),
				}
			}
			return observeValue(body, resp, err)
		},
	},
	"GetEntitiesMetadata": {
		newInput: func() any { return &entitiesMetadataInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*entitiesMetadataInput)
			list, resp, err := c.GetEntitiesMetadata(ctx, &client.EntitiesMetadataOptions{
				Names: in.Names, ExcludeCustom: in.ExcludeCustom, TopLevelOnly: in.TopLevelOnly,
				DefaultSelected: in.DefaultSelected, Concurrency: in.Concurrency,
			})
			var body any
			if err == nil {
				if list == nil {
					list = []client.EntityObject{}
				}
				body = map[string]any{"value": list}
			}
			return observeValue(body, resp, err)
		},
	},
	"GetEntityMetadata": {
		newInput: func() any { return &entityMetadataInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*entityMetadataInput)
			def, resp, err := c.GetEntityMetadata(ctx, in.Entity, &client.EntityMetadataOptions{Select: in.Select, Expand: toExpand(in.Expand)})
			var rec client.Record
			if def != nil {
				rec = def.Raw
			}
			return observeRecord(rec, resp, err)
		},
	},
	"ListAttributes": {
		newInput: func() any { return &listAttributesInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*listAttributesInput)
			list, resp, err := c.ListAttributes(ctx, in.Entity, &client.ListAttributesOptions{
				Type: client.AttributeType(in.Type), Details: in.Details, LabeledOnly: in.LabeledOnly,
			})
			var body any
			if list != nil {
				byType := map[string]any{}
				for k, n := range list.ByType {
					byType[k] = count(n)
				}
				body = map[string]any{
					"entityLogicalName":    list.EntityLogicalName,
					"attributes":           attributeRaws(list.Attributes),
					"totalCount":           count(list.TotalCount),
					"customCount":          count(list.CustomCount),
					"systemCount":          count(list.SystemCount),
					"byType":               byType,
					"primaryIdAttribute":   list.PrimaryIDAttribute,
					"primaryNameAttribute": list.PrimaryNameAttribute,
				}
			}
			return observeValue(body, resp, err)
		},
	},
	"QueryAttributes": {
		newInput: func() any { return &queryAttributesInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*queryAttributesInput)
			defs, resp, err := c.QueryAttributes(ctx, in.Entity, &client.QueryAttributesOptions{
				Type: client.AttributeType(in.Type), Select: in.Select, Filter: in.Filter, Expand: toExpand(in.Expand),
			})
			var body any
			if err == nil {
				body = map[string]any{"value": attributeRaws(defs)}
			}
			return observeValue(body, resp, err)
		},
	},
	"GetAttribute": {
		newInput: func() any { return &getAttributeInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*getAttributeInput)
			def, resp, err := c.GetAttribute(ctx, in.Entity, in.Attribute, &client.GetAttributeOptions{
				Type: client.AttributeType(in.Type), Select: in.Select, Expand: toExpand(in.Expand),
			})
			var rec client.Record
			if def != nil {
				rec = def.Raw
			}
			return observeRecord(rec, resp, err)
		},
	},
	"CreateAttribute": {
		newInput: func() any { return &createAttributeInput{} },
		check:    func(x any) error { return x.(*createAttributeInput).checkOne() },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*createAttributeInput)
			id, resp, err := c.CreateAttribute(ctx, in.Entity, in.definition(), &client.MetadataWriteOptions{SolutionUniqueName: in.SolutionUniqueName})
			return observeCreated(id, resp, err)
		},
	},
	"UpdateAttribute": {
		newInput: func() any { return &updateAttributeInput{} },
		check:    func(x any) error { return x.(*updateAttributeInput).checkOne() },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*updateAttributeInput)
			var def client.Definition = client.Record(in.Definition)
			if in.Spec != nil {
				def = in.Spec.spec()
			}
			resp, err := c.UpdateAttribute(ctx, in.Entity, in.Attribute, def, &client.UpdateAttributeOptions{
				MergeLabels: in.MergeLabels, SolutionUniqueName: in.SolutionUniqueName,
			})
			return observeRecord(nil, resp, err)
		},
	},
	"DeleteAttribute": {
		newInput: func() any { return &deleteAttributeInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*deleteAttributeInput)
			resp, err := c.DeleteAttribute(ctx, in.Entity, in.Attribute)
			return observeRecord(nil, resp, err)
		},
	},
	"CreateEntity": {
		newInput: func() any { return &createEntityInput{} },
		check:    func(x any) error { return x.(*createEntityInput).checkOne() },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*createEntityInput)
			var def client.Definition = client.Record(in.Definition)
			if in.Spec != nil {
				def = in.Spec.spec()
			}
			id, resp, err := c.CreateEntity(ctx, def, &client.MetadataWriteOptions{SolutionUniqueName: in.SolutionUniqueName})
			return observeCreated(id, resp, err)
		},
	},
	"DeleteEntity": {
		newInput: func() any { return &deleteEntityInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*deleteEntityInput)
			resp, err := c.DeleteEntity(ctx, in.Entity)
			return observeRecord(nil, resp, err)
		},
	},
}

// count is a whole number as the generic bodies hold it.
func count(n int) json.Number { return json.Number(strconv.Itoa(n)) }

func entityRaws(defs []client.EntityDefinition) []any {
	out := make([]any, len(defs))
	for i, d := range defs {
		out[i] = map[string]any(d.Raw)
	}
	return out
}

func attributeRaws(defs []client.AttributeDefinition) []any {
	out := make([]any, len(defs))
	for i, d := range defs {
		out[i] = map[string]any(d.Raw)
	}
	return out
}

// observeValue is observeRecord for a result that is not a row: body, when not nil, is shown as its
// JSON (struct field names as their json tags, numbers with their text).
func observeValue(body any, resp *client.Response, err error) observation {
	obs := observeRecord(nil, resp, err)
	if err != nil || obs.err != nil || body == nil {
		return obs
	}
	g, gerr := genericOf(body)
	if gerr != nil {
		return observation{err: fmt.Errorf("show the result: %w", gerr)}
	}
	obs.body, obs.hasBody = g, true
	return obs
}

// observeCreated shows the MetadataId a create returned as {"id": ...}.
func observeCreated(id string, resp *client.Response, err error) observation {
	obs := observeRecord(nil, resp, err)
	if err == nil && obs.err == nil {
		obs.body, obs.hasBody = map[string]any{"id": id}, true
	}
	return obs
}

// genericOf turns a value into the generic JSON tree bodies are compared as.
func genericOf(v any) (any, error) {
	b, err := encodeJSON(v, false)
	if err != nil {
		return nil, err
	}
	return decodeGeneric(b)
}
