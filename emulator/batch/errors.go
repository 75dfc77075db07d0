package batch

import (
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// The messages below come from three sources, marked on each:
//
//   - [dataverse]: text seen in answers from the service itself (quoted in public issue threads).
//   - [odatalib]: text of Microsoft.OData.Core, the library whose batch reader Dataverse's Web API is
//     built on. Dataverse has not been observed sending these for $batch, but they are what that
//     reader throws for the same input.
//   - [ours]: no public source; written to be clear. Change them if the service is seen to differ.
//
// Every batch error uses the platform code "0x0", the code the OData layer uses for syntax errors;
// the code Dataverse sends for these is not documented.

// MaxOperations is the number of operations a batch may hold, counting every request of every change
// set. Dataverse documents the limit as "up to 1000 individual requests".
const MaxOperations = 1000

// errAt returns a 400 with code 0x0 and the formatted message, positioned at pos.
func errAt(pos int, format string, args ...any) *dverr.Error {
	return dverr.BadRequest(format, args...).At(pos)
}

// [ours] A $batch request without a Content-Type at all.
func errNoContentType() *dverr.Error {
	return errAt(0, "A $batch request needs a 'Content-Type' header of the form 'multipart/mixed; boundary=<boundary>'.")
}

// [ours] The body is JSON batch (OData 4.01), which an OData 4.0 service does not read.
func errJSONBatch(contentType string) *dverr.Error {
	return dverr.New(http.StatusUnsupportedMediaType, dverr.CodeZero,
		"The content type '%s' is not supported for $batch: JSON batch requests are an OData 4.01 feature and the Dataverse Web API (OData 4.0) accepts only 'multipart/mixed' batch bodies.", contentType).At(0)
}

// [ours] Any other non-multipart body.
func errNotMultipart(contentType string) *dverr.Error {
	return dverr.New(http.StatusUnsupportedMediaType, dverr.CodeZero,
		"The content type '%s' is not supported for $batch; the body must be 'multipart/mixed; boundary=<boundary>'.", contentType).At(0)
}

// [odatalib] MediaTypeUtils_BoundaryMustBeSpecifiedForBatchPayloads: no boundary parameter, several,
// or a Content-Type that does not parse.
func errBoundaryMissing(pos int, contentType string) *dverr.Error {
	return errAt(pos, "The content type '%s' specifies a batch payload; however, the payload either does not include a batch boundary or includes more than one boundary. In OData, batch payload content types must specify exactly one batch boundary in the 'boundary' parameter of the content type.", contentType)
}

// [ours] The OData library refuses boundaries outside 1 to 70 characters (RFC 2046's limit); its
// wording for it could not be checked.
func errBoundaryLength(pos int, boundary string) *dverr.Error {
	return errAt(pos, "The boundary delimiter '%s' is invalid: a multipart boundary must be between 1 and 70 characters long.", boundary)
}

// [ours] A change set that reuses the batch's boundary cannot be told apart from it.
func errSameBoundary(pos int, boundary string) *dverr.Error {
	return errAt(pos, "The change set boundary '%s' is the same as the batch boundary; a change set must use a boundary of its own.", boundary)
}

// [odatalib] ODataBatchReaderStream_UnexpectedEndOfInput: the body ended before the closing
// delimiter (or before the first delimiter, or inside a part's headers).
func errUnexpectedEnd(pos int) *dverr.Error {
	return errAt(pos, "Encountered an unexpected end of input while reading the batch payload.")
}

// [ours] A change set reached the next batch delimiter without its own closing delimiter.
func errChangeSetNotClosed(pos int, boundary string) *dverr.Error {
	return errAt(pos, "The change set with boundary '%s' was not closed: the batch boundary was found before its closing delimiter '--%s--'.", boundary, boundary)
}

// [odatalib] ODataBatchReaderStream_MissingContentTypeHeader.
func errPartContentTypeMissing(pos int) *dverr.Error {
	return errAt(pos, "The 'Content-Type' header is missing. The 'Content-Type' header must be specified for each MIME part of a batch message.")
}

// [odatalib] ODataBatchReaderStream_InvalidContentTypeSpecified.
func errPartContentType(pos int, value string) *dverr.Error {
	return errAt(pos, "The 'Content-Type' header value '%s' is invalid. When this is the start of the change set, the value must be 'multipart/mixed'; otherwise it must be 'application/http'.", value)
}

// [odatalib] ODataBatchReaderStream_MissingOrInvalidContentEncodingHeader.
func errTransferEncoding(pos int) *dverr.Error {
	return errAt(pos, "A missing or invalid 'Content-Transfer-Encoding' header was found. The 'Content-Transfer-Encoding' header must be specified for each batch operation, and its value must be 'binary'.")
}

// [odatalib] ODataBatchReaderStream_NestedChangesetsAreNotSupported.
func errNestedChangeSet(pos int) *dverr.Error {
	return errAt(pos, "Nested change sets in a batch payload are not supported.")
}

// [odatalib] ODataBatchReaderStream_InvalidHeaderSpecified.
func errHeaderLine(pos int, line string) *dverr.Error {
	return errAt(pos, "The message header '%s' is invalid. The header value must be of the format '<header name>: <header value>'.", line)
}

// [odatalib] ODataBatchReaderStream_DuplicateHeaderFound.
func errDuplicateHeader(pos int, name string) *dverr.Error {
	return errAt(pos, "The header '%s' was specified multiple times. Each header must appear only once in a batch part.", name)
}

// [odatalib] ODataBatchReaderStream_InvalidRequestLine.
func errRequestLine(pos int, line string) *dverr.Error {
	return errAt(pos, "The request line '%s' is invalid. The request line at the start of each operation must be of the format 'HttpMethod RequestUrl HttpVersion'.", line)
}

// [odatalib] ODataBatchReaderStream_InvalidHttpVersionSpecified.
func errHTTPVersion(pos int, version string) *dverr.Error {
	return errAt(pos, "The HTTP version '%s' used in a batch operation request or response is not valid. The value must be 'HTTP/1.1'.", version)
}

// [odatalib] HttpUtils_InvalidHttpMethodString (OData 4 wording: MERGE is gone).
func errMethod(pos int, method string) *dverr.Error {
	return errAt(pos, "The string '%s' cannot be converted into a supported HTTP method. The only supported HTTP methods are GET, DELETE, PUT, POST and PATCH.", method)
}

// [odatalib] ODataBatch_InvalidHttpMethodForChangeSetRequest: GET inside a change set.
func errMethodInChangeSet(pos int, method string) *dverr.Error {
	return errAt(pos, "An invalid HTTP method '%s' was detected for a request in a change set. Requests in change sets only support the HTTP methods 'POST', 'PUT', 'DELETE', and 'PATCH'.", method)
}

// [odatalib] ODataBatchReaderStream_InvalidContentLengthSpecified.
func errContentLength(pos int, value string) *dverr.Error {
	return errAt(pos, "The content length header '%s' is not valid. The content length header must be a valid Int32 literal and must be greater than or equal to 0.", value)
}

// [ours] A Content-Length that does not end where the part ends. The OData library would silently cut
// the body short or read into the next part; a clear error serves a developer better.
func errContentLengthMismatch(pos int, n int) *dverr.Error {
	return errAt(pos, "The operation's 'Content-Length' header says %d bytes, but the part does not end there: the body must be followed by the next boundary delimiter.", n)
}

// [odatalib] ODataBatchReader_DuplicateContentIDsNotAllowed (OData 4.0 wording).
func errDuplicateContentID(pos int, id string) *dverr.Error {
	return errAt(pos, "The content ID '%s' was found more than once in the same change set. Content IDs have to be unique across all operations of a change set.", id)
}

// [dataverse] Reported from the service for a change set of 1,001 operations (DynamicsWebApi pull
// request 71, 2020).
func errChangeSetTooLarge(pos int) *dverr.Error {
	return errAt(pos, "The current change set contains too many operations. A maximum number of '%d' operations are allowed in a change set.", MaxOperations)
}

// [dataverse] Reported from the service, then with a limit of '250' (powerapps-docs issue 1890,
// 2020); the number is the documented limit. Its "including changeset operations" is why every
// operation of every change set counts.
func errBatchTooLarge(pos int) *dverr.Error {
	return errAt(pos, "The current batch message contains too many parts. Only batch messages with a maximum number of '%d' query operations, including changeset operations, are allowed.", MaxOperations)
}
