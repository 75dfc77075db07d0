// Package dverr defines the one error type the emulator's layers share: an HTTP status, a Dataverse
// error code and the message Dataverse gives, rendered by the emulator as the Web API error envelope.
//
// It is a leaf package so that the parsers (odata, fetchxml, batch) and the store can return the
// exact Dataverse error without importing net/http handlers or each other.
package dverr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a Dataverse-shaped error: HTTP status, hex platform code ("0x80040217", "0x0" or "") and
// message. Position is the 0-based offset in the parsed text where a parser error was found, or -1.
type Error struct {
	Status   int
	Code     string
	Message  string
	Position int
	// Header holds extra response headers (for example WWW-Authenticate on a 401).
	Header http.Header
}

// Error implements error.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Message)
}

// New returns an error with the given status, code and formatted message.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...), Position: -1}
}

// At returns a copy of e that records a parser position.
func (e *Error) At(pos int) *Error {
	c := *e
	c.Position = pos
	return &c
}

// As reports whether err is (or wraps) an *Error and returns it.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Dataverse platform codes used by the emulator. The names follow the SDK's ErrorCodes class.
const (
	CodeNone                  = ""
	CodeZero                  = "0x0"
	CodeObjectDoesNotExist    = "0x80040217"
	CodeDuplicateRecord       = "0x80040237"
	CodeResourceNotFound      = "0x8006088a"
	CodeMaxLengthExceeded     = "0x80044331"
	CodeInvalidArgument       = "0x80040203"
	CodeConcurrencyMismatch   = "0x80060882"
	CodePayloadError          = "0x80048d19"
	CodeQueryBuilderNoAttr    = "0x80041103"
	CodeExpandNotSupported    = "0x80060888"
	CodeTooManyLinkEntities   = "0x8004430D"
	CodeAggregateLimit        = "0x8004E023"
	CodeNotSupported          = "0x80040800"
	CodeCannotActOnBehalf     = "0x80040224"
	CodeUserNotInOrganization = "0x80072560"
	CodeInvalidKey            = "0x80060891"
	CodeValueOutOfRange       = "0x80044330"
	CodeInvalidOptionValue    = "0x8004431a"
	CodeMethodNotAllowed      = "0x80060889"
	CodeRequiredAttribute     = "0x80040200"
)

// ResourceNotFound is Dataverse's answer to an unknown entity set, function or path segment. Names
// are case sensitive, so "Account" gets this error.
func ResourceNotFound(segment string) *Error {
	return New(http.StatusNotFound, CodeResourceNotFound, "Resource not found for the segment '%s'.", segment)
}

// NoHTTPResource is the answer to a known resource used with a method it does not support, for
// example POST WhoAmI.
func NoHTTPResource(url string) *Error {
	return New(http.StatusNotFound, CodeNone, "No HTTP resource was found that matches the request URI '%s'.", url)
}

// RecordNotFound is the answer for a missing row.
func RecordNotFound(entity, id string) *Error {
	return New(http.StatusNotFound, CodeObjectDoesNotExist, "Entity '%s' With Id = %s Does Not Exist", entity, id)
}

// PropertyNotFound is the OData parser's answer to an unknown name in $select, $filter, $expand or a
// path.
func PropertyNotFound(name, entity string) *Error {
	return New(http.StatusBadRequest, CodeZero, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, entity)
}

// InvalidBodyProperty is the answer to an unknown property in a POST or PATCH body.
func InvalidBodyProperty(name, entity string) *Error {
	return New(http.StatusBadRequest, CodeZero, "An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property '%s' was found in entity 'Microsoft.Dynamics.CRM.%s'. ---> Microsoft.OData.ODataException: Does not support untyped value in non-open type.", name, entity)
}

// MaxLengthExceeded is the validation error for a string longer than its column's MaxLength. The two
// spaces after the first sentence are Dataverse's.
func MaxLengthExceeded(attr, entity string, max int) *Error {
	return New(http.StatusBadRequest, CodeMaxLengthExceeded, "A validation error occurred.  The length of the '%s' attribute of the '%s' entity exceeded the maximum allowed length of '%d'.", attr, entity, max)
}

// DuplicateRecord is the answer to a create whose key already exists, and to an upsert with
// If-None-Match: * on an existing row.
func DuplicateRecord() *Error {
	return New(http.StatusPreconditionFailed, CodeDuplicateRecord, "A record with matching key values already exists.")
}

// VersionMismatch is the answer to a stale If-Match ETag. The documentation shows an empty code; the
// service has been seen to send 0x80060882 (ConcurrencyVersionMismatch), which is what we send.
func VersionMismatch() *Error {
	return New(http.StatusPreconditionFailed, CodeConcurrencyMismatch, "The version of the existing record doesn't match the RowVersion property provided.")
}

// Invalid is a 400 with the given code: the answer to a request the service cannot read.
func Invalid(code, format string, args ...any) *Error {
	return New(http.StatusBadRequest, code, format, args...)
}

// AggregateLimitExceeded is the answer to an aggregate query ($apply or FetchXML) over more source
// rows than the aggregate limit (AggregateQueryRecordLimit, 50,000 by default).
func AggregateLimitExceeded() *Error {
	return Invalid(CodeAggregateLimit, "AggregateQueryRecordLimit exceeded. Cannot perform this operation.")
}

// BadRequest is a generic 400 with code 0x0, the code the OData layer uses for syntax errors.
func BadRequest(format string, args ...any) *Error {
	return New(http.StatusBadRequest, CodeZero, format, args...)
}
