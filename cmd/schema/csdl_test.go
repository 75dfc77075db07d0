package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEdmColumnType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		edm, typ, format string
		skip             bool
		err              string
	}{
		{edm: "Edm.String", typ: "String"},
		{edm: "Edm.Int32", typ: "Integer"},
		{edm: "Edm.Int64", typ: "BigInt"},
		{edm: "Edm.Decimal", typ: "Decimal"},
		{edm: "Edm.Double", typ: "Double"},
		{edm: "Edm.Boolean", typ: "Boolean"},
		{edm: "Edm.DateTimeOffset", typ: "DateTime"},
		{edm: "Edm.Date", typ: "DateTime", format: "DateOnly"},
		{edm: "Edm.Guid", typ: "Uniqueidentifier"},
		{edm: "Edm.Binary", skip: true},
		{edm: "Edm.Stream", skip: true},
		{edm: "Edm.Int16", err: `unknown Edm type "Edm.Int16"`},
		{edm: "", err: `unknown Edm type ""`},
	}
	for _, tt := range tests {
		t.Run(tt.edm, func(t *testing.T) {
			t.Parallel()
			typ, format, skip, err := edmColumnType(tt.edm)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{tt.typ, tt.format, tt.skip}, []any{typ, format, skip}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// csdlOf wraps entity types and container sets in a $metadata document.
func csdlOf(types, sets string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="crmbaseentity" Abstract="true"/>
` + types + `
<EntityContainer Name="System">` + sets + `</EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`
}

const csdlProject = `<EntityType Name="cr8a1_project" BaseType="mscrm.crmbaseentity">
<Key><PropertyRef Name="cr8a1_projectid"/></Key>
<Property Name="cr8a1_projectid" Type="Edm.Guid" Nullable="false"/>
<Property Name="cr8a1_name" Type="Edm.String"/>
<Property Name="cr8a1_start" Type="Edm.Date"/>
<Property Name="_cr8a1_parentid_value" Type="Edm.Guid"/>
<Property Name="createdon" Type="Edm.DateTimeOffset"/>
<NavigationProperty Name="cr8a1_ParentId" Type="mscrm.cr8a1_project" Partner="cr8a1_project_parent">
<ReferentialConstraint Property="_cr8a1_parentid_value" ReferencedProperty="cr8a1_projectid"/>
</NavigationProperty>
<NavigationProperty Name="cr8a1_project_parent" Type="Collection(mscrm.cr8a1_project)" Partner="cr8a1_ParentId"/>
</EntityType>`

func TestImportCSDLTable(t *testing.T) {
	t.Parallel()
	doc, err := readCSDL(strings.NewReader(csdlOf(csdlProject, `<EntitySet Name="cr8a1_projects" EntityType="Microsoft.Dynamics.CRM.cr8a1_project"/>`)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tablesOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.convert(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	want := &importedTable{
		table: compactTable{
			LogicalName: "cr8a1_project", EntitySetName: "cr8a1_projects", Ownership: "None", PrimaryID: "cr8a1_projectid", PrimaryName: "cr8a1_name",
			OmitSystemColumns: []string{"createdby", "createdonbehalfby", "modifiedon", "modifiedby", "modifiedonbehalfby", "statecode", "statuscode",
				"versionnumber", "importsequencenumber", "overriddencreatedon", "timezoneruleversionnumber", "utcconversiontimezonecode"},
			Attributes: []compactColumn{
				{Name: "cr8a1_projectid", Type: "Uniqueidentifier"},
				{Name: "cr8a1_name", Type: "String", MaxLength: importMaxLength},
				{Name: "cr8a1_start", Type: "DateTime", Format: "DateOnly"},
				{Name: "cr8a1_parentid", Type: "Lookup", Targets: []string{"cr8a1_project"}},
				{Name: "createdon"},
			},
		},
		rels: []compactRelationship{{Name: "cr8a1_project_parent", Lookup: "cr8a1_project.cr8a1_parentid", Target: "cr8a1_project",
			Nav: "cr8a1_ParentId", CollectionNav: "cr8a1_project_parent"}},
	}
	if diff := cmp.Diff(want, all["cr8a1_project"], cmp.AllowUnexported(importedTable{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestImportCSDLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, err string
	}{
		{name: "json", doc: "{\"value\": []}", err: "csdl: not a CSDL document"},
		{name: "not xml", doc: "<edmx:Edmx><b></edmx:Edmx>", err: "csdl: XML syntax error on line 1"},
		{name: "not csdl", doc: `<html><body>Sign in</body></html>`, err: "csdl: line 1: not a CSDL document"},
		{name: "empty", doc: ``, err: "not a CSDL document"},
		{name: "truncated", doc: csdlOf(csdlProject, "")[:400], err: "XML syntax error"},
		{name: "no tables", doc: csdlOf("", ""), err: "no entity type derives from mscrm.crmbaseentity"},
		{name: "unknown type", doc: csdlOf(strings.Replace(csdlProject, "Edm.Date", "Edm.TimeOfDay", 1), ""),
			err: `csdl: line 5: entity type cr8a1_project: property cr8a1_start: unknown Edm type "Edm.TimeOfDay"`},
		{name: "missing key", doc: csdlOf(strings.Replace(csdlProject, `<Key><PropertyRef Name="cr8a1_projectid"/></Key>`, "", 1), ""),
			err: "csdl: line 5: entity type cr8a1_project: want a Key with one PropertyRef, found 0"},
		{name: "key not a property", doc: csdlOf(strings.Replace(csdlProject, `<PropertyRef Name="cr8a1_projectid"/>`, `<PropertyRef Name="id"/>`, 1), ""),
			err: "key id is not a Property"},
		{name: "key not a guid", doc: csdlOf(strings.Replace(csdlProject, `"cr8a1_projectid" Type="Edm.Guid"`, `"cr8a1_projectid" Type="Edm.Int32"`, 1), ""),
			err: "key cr8a1_projectid is Edm.Int32"},
		{name: "no name column", doc: csdlOf(strings.Replace(csdlProject, `<Property Name="cr8a1_name" Type="Edm.String"/>`, "", 1), ""),
			err: "no Edm.String property to serve as the primary name column"},
		{name: "bad constraint", doc: csdlOf(strings.Replace(csdlProject, `Property="_cr8a1_parentid_value"`, `Property="cr8a1_parentid"`, 1), ""),
			err: `referential constraint on "cr8a1_parentid"`},
		{name: "entity set without type", doc: csdlOf(csdlProject, `<EntitySet Name="x"/>`), err: "entity set without Name or EntityType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := importCSDLText(tt.doc, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// importCSDLText reads and imports a document into dir.
func importCSDLText(text, dir string) error {
	doc, err := readCSDL(strings.NewReader(text))
	if err != nil {
		return err
	}
	return importCSDL(doc, importOptions{out: dir}, func(string, ...any) {})
}

// FuzzReadCSDL checks that no document makes the reader or the conversion panic.
func FuzzReadCSDL(f *testing.F) {
	f.Add(csdlOf(csdlProject, `<EntitySet Name="cr8a1_projects" EntityType="mscrm.cr8a1_project"/>`))
	f.Add(csdlOf(strings.Replace(csdlProject, "<Key>", "<Key><PropertyRef/>", 1), ""))
	f.Add(csdlOf(`<EntityType Name="a" BaseType="mscrm.b"/><EntityType Name="b" BaseType="mscrm.a"/>`, ""))
	f.Add(`<edmx:Edmx><EntityType Name="x" BaseType="crmbaseentity"><NavigationProperty Name="n" Type="Collection(" Partner="n"/></EntityType></edmx:Edmx>`)
	f.Add(`<html/>`)
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := readCSDL(strings.NewReader(text))
		if err != nil {
			return
		}
		if s, err := tablesOf(doc); err == nil {
			_, _ = s.convert(func(string, ...any) {})
		}
	})
}
