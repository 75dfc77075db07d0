package fetchxml

import (
	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Dataverse's codes for FetchXML errors, from the SDK's ErrorCodes (QueryBuilder* and InvalidXml).
// Where Dataverse's exact code for a fault is not known, InvalidArgument stands in.
const (
	codeInvalidXML       = "0x80040201" // InvalidXml
	codeInvalidArgument  = dverr.CodeInvalidArgument
	codeNoEntity         = "0x80041102" // QueryBuilderNoEntity
	codeNoAttribute      = dverr.CodeQueryBuilderNoAttr
	codeAliasNotFound    = "0x8004110A" // QueryBuilderAlias_Does_Not_Exist
	codeNoAlias          = "0x8004110B" // QueryBuilderNoAlias
	codeInvalidLinkType  = "0x80041117" // QueryBuilderDeserializeInvalidLinkType
	codeLinkAttributes   = "0x80041118" // QueryBuilderDeserializeLinkAttributes
	codeInvalidAggregate = "0x8004111A" // QueryBuilderDeserializeInvalidAggregate
	codeInvalidAlias     = "0x8004111B" // QueryBuilderDeserializeInvalidAlias
	codeInvalidNode      = "0x8004111C" // QueryBuilderDeserializeInvalidNode
	codeInvalidOperator  = "0x80041120" // QueryBuilderInvalidConditionOperator
	codeInvalidFilter    = "0x80041122" // QueryBuilderInvalidFilterType
	codeNotSupported     = dverr.CodeNotSupported
)

// fail returns a 400 with a Dataverse code, recording the byte offset it concerns.
func fail(pos int, code, format string, args ...any) *dverr.Error {
	return dverr.Invalid(code, format, args...).At(pos)
}

// errNoAttribute is Dataverse's answer to an unknown column.
func errNoAttribute(pos int, entity, attr string) *dverr.Error {
	return fail(pos, codeNoAttribute, "'%s' entity doesn't contain attribute with Name = '%s' and NameMapping = 'Logical'.", entity, attr)
}

// errNoEntity is Dataverse's answer to an unknown table.
func errNoEntity(pos int, name string) *dverr.Error {
	return fail(pos, codeNoEntity, "The entity with a name = '%s' with namemapping = 'Logical' was not found in the MetadataCache.", name)
}
