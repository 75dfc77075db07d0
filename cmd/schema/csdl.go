package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file reads a $metadata document (OData CSDL XML, version 4.0) into the few things the
// import needs: entity types with their key, properties and navigation properties, and the entity
// sets of the container. Everything else (functions, actions, complex types, annotations) is
// skipped.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-service-documents#csdl-metadata-document

// csdlDocument is what the import reads from a $metadata document.
type csdlDocument struct {
	Types []*csdlEntityType
	// Sets maps an entity type's name (without namespace) to its entity set.
	Sets map[string]string
}

// csdlEntityType is one EntityType element.
type csdlEntityType struct {
	Name       string             `xml:"Name,attr"`
	BaseType   string             `xml:"BaseType,attr"`
	Abstract   bool               `xml:"Abstract,attr"`
	OpenType   bool               `xml:"OpenType,attr"`
	Key        []csdlPropertyRef  `xml:"Key>PropertyRef"`
	Properties []csdlPropertyElem `xml:"Property"`
	Navs       []csdlNavigation   `xml:"NavigationProperty"`
	Line       int                `xml:"-"` // where the element starts, for errors
}

type csdlPropertyRef struct {
	Name string `xml:"Name,attr"`
}

type csdlPropertyElem struct {
	Name string `xml:"Name,attr"`
	Type string `xml:"Type,attr"`
}

type csdlNavigation struct {
	Name        string                      `xml:"Name,attr"`
	Type        string                      `xml:"Type,attr"`
	Partner     string                      `xml:"Partner,attr"`
	Constraints []csdlReferentialConstraint `xml:"ReferentialConstraint"`
}

type csdlReferentialConstraint struct {
	Property           string `xml:"Property,attr"`
	ReferencedProperty string `xml:"ReferencedProperty,attr"`
}

type csdlEntitySet struct {
	Name       string `xml:"Name,attr"`
	EntityType string `xml:"EntityType,attr"`
}

// errNotCSDL is returned for a document without an edmx:Edmx root.
var errNotCSDL = errors.New("not a CSDL document: want an <edmx:Edmx> root element (save the answer of GET [Org]/api/data/v9.2/$metadata)")

// readCSDL reads a $metadata document. Errors name the line they are about.
func readCSDL(r io.Reader) (*csdlDocument, error) {
	dec := xml.NewDecoder(r)
	doc := &csdlDocument{Sets: map[string]string{}}
	root := true
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csdl: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			if start.Name.Local != "Edmx" {
				return nil, fmt.Errorf("csdl: line %d: %w", line, errNotCSDL)
			}
			root = false
			continue
		}
		switch start.Name.Local {
		case "EntityType":
			t := &csdlEntityType{Line: line}
			if err := dec.DecodeElement(t, &start); err != nil {
				return nil, fmt.Errorf("csdl: line %d: entity type: %w", line, err)
			}
			doc.Types = append(doc.Types, t)
		case "EntitySet":
			var s csdlEntitySet
			if err := dec.DecodeElement(&s, &start); err != nil {
				return nil, fmt.Errorf("csdl: line %d: entity set: %w", line, err)
			}
			if s.Name == "" || s.EntityType == "" {
				return nil, fmt.Errorf("csdl: line %d: entity set without Name or EntityType", line)
			}
			doc.Sets[unqualify(s.EntityType)] = s.Name
		}
	}
	if root {
		return nil, fmt.Errorf("csdl: %w", errNotCSDL)
	}
	return doc, nil
}

// unqualify strips the namespace or alias: "mscrm.account" and "Microsoft.Dynamics.CRM.account"
// are both "account". Entity type names have no dots of their own.
func unqualify(name string) string {
	return name[strings.LastIndex(name, ".")+1:]
}

// target is the entity type a navigation property leads to and whether it is a collection.
func (n csdlNavigation) target() (string, bool) {
	t, ok := strings.CutPrefix(n.Type, "Collection(")
	if ok {
		t = strings.TrimSuffix(t, ")")
	}
	return unqualify(t), ok
}
