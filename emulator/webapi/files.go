package webapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// This file serves file and image columns through their property URL: uploads in one request or
// in chunks (PATCH), downloads whole or by range (GET .../$value), deletes (DELETE), and the
// values a row shows for them.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data

const (
	// fileChunkSize is the chunk size the emulator recommends (x-ms-chunk-size), Dataverse's.
	fileChunkSize = 4 << 20
	// singleUploadLimit bounds an upload in one request: Dataverse takes files under 128 MB so.
	singleUploadLimit = 128 << 20
	// thumbnailVariant tells an image column's thumbnail from its full-size image in the store.
	thumbnailVariant = "thumbnail"
	// dotnetEpochTicks is 1970-01-01 in .NET ticks (100 ns since year 1), the unit of an image
	// column's _timestamp.
	dotnetEpochTicks = 621355968000000000
)

// fileKind returns "File" or "Image" for file and image columns, "" for others.
func fileKind(a *model.Attribute) string {
	if a == nil {
		return ""
	}
	switch a.TypeName {
	case "FileType":
		return "File"
	case "ImageType":
		return "Image"
	}
	return ""
}

// fileSettings are a file or image column's limits, from its metadata document.
type fileSettings struct {
	kind      string
	maxBytes  int64
	fullImage bool
}

func columnFileSettings(a *model.Attribute) fileSettings {
	st := fileSettings{kind: fileKind(a), maxBytes: 32768 << 10}
	if st.kind == "Image" {
		st.maxBytes = 10240 << 10
	}
	var doc struct {
		MaxSizeInKB       *int64 `json:"MaxSizeInKB"`
		CanStoreFullImage *bool  `json:"CanStoreFullImage"`
	}
	if raw := a.Doc(); len(raw) > 0 && json.Unmarshal(raw, &doc) == nil {
		if doc.MaxSizeInKB != nil && *doc.MaxSizeInKB > 0 {
			st.maxBytes = *doc.MaxSizeInKB << 10
		}
		if doc.CanStoreFullImage != nil {
			st.fullImage = *doc.CanStoreFullImage
		}
	}
	return st
}

// Dataverse's errors for file and image columns. Those the documentation gives keep its code and
// message; the others are marked.
func fileTooLarge() error {
	return dverr.New(http.StatusBadRequest, "0x80044a02", "Attachment file size is too big.")
}

func imageTooLarge(maxBytes, size int64) error {
	return dverr.New(http.StatusBadRequest, "0x80072553", "Error occured when processing image. Reason: File size is too big. MaxSize: %d MB, Uploaded filesize: %d MB.", maxBytes>>20, size>>20)
}

func notAnImage(e *model.Entity, id string, a *model.Attribute) error {
	return dverr.New(http.StatusBadRequest, "0x80072553", "Error occured when processing image. Reason: Update image properties failed for objectid: %s, logicalName: %s, attribute: %s", id, e.LogicalName, a.LogicalName)
}

// noFile answers a download of an empty file column. The status and message are not documented;
// the code is Dataverse's ObjectDoesNotExist.
func noFile(e *model.Entity, id string, a *model.Attribute) error {
	return dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "No file attachment found for attribute: %s of %s record with id %s.", a.LogicalName, e.LogicalName, id)
}

// notFileColumn refuses a file operation on another kind of column (message not documented).
func notFileColumn(e *model.Entity, a *model.Attribute) error {
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The attribute '%s' of the entity '%s' is not a file or image attribute.", a.LogicalName, e.LogicalName)
}

// badUploadRequest refuses a malformed upload (messages not documented).
func badUploadRequest(format string, args ...any) error {
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, format, args...)
}

// rangeNotSatisfiable refuses a download range outside the file (not documented).
func rangeNotSatisfiable(size int64) error {
	return dverr.New(http.StatusRequestedRangeNotSatisfiable, dverr.CodeInvalidArgument, "The requested range is not satisfiable for a file of %d bytes.", size)
}

// fileProperty serves the requests on a column's property URL that the file and image support
// handles: every method on a file or image column, $value of other columns, and PATCH (which only
// file and image columns accept).
func (s *Handler) fileProperty(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	kind := fileKind(a)
	m := req.R.Method
	if kind == "" {
		switch {
		case m == http.MethodPatch:
			return nil, notFileColumn(e, a)
		case req.Res.Value && m == http.MethodGet:
			return s.rawValue(req)
		}
		return nil, wire.MethodNotAllowed(req.R)
	}
	switch {
	case m == http.MethodGet:
		return s.downloadFile(req, !req.Res.Value)
	case req.Res.Value:
		return nil, wire.MethodNotAllowed(req.R)
	case m == http.MethodPatch:
		return s.uploadFile(req)
	case m == http.MethodPut && kind == "Image":
		return s.putImage(req)
	case m == http.MethodDelete:
		return s.deleteFile(req)
	}
	return nil, wire.MethodNotAllowed(req.R)
}

// rawValue serves GET {set}({key})/{property}/$value of a column that is not a file: the value
// as text, 204 when null.
func (s *Handler) rawValue(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	if !a.Stored() || !a.ValidForRead {
		return nil, dverr.BadRequest("The property '%s' cannot be read on its own.", a.LogicalName)
	}
	var resp *wire.Response
	err := s.InTx(req, false, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		row, _, err := tx.Get(e, id, []string{a.LogicalName})
		if err != nil {
			return mapStoreErr(err, e, id)
		}
		v := row[a.LogicalName]
		if v == nil {
			resp = wire.NewResponse(http.StatusNoContent)
			return nil
		}
		if l, ok := v.(model.Lookup); ok {
			v = l.ID
		}
		resp = wire.NewResponse(http.StatusOK)
		switch x := jsonValue(a, v).(type) {
		case string:
			resp.Text = x
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return err
			}
			resp.Text = string(b)
		}
		return nil
	})
	return resp, err
}

// fileValue adds a file or image column's value to a row being shaped: a file column shows its
// file's id, an image column its thumbnail as base64, null when empty.
func (s *shaper) fileValue(o *wire.Object, e *model.Entity, r model.Row, a *model.Attribute) error {
	id, _ := r[e.PrimaryIDAttribute].(string)
	if id == "" {
		return nil
	}
	v, err := columnValue(s.tx, e, id, a)
	if err != nil {
		return err
	}
	o.Set(a.LogicalName, v)
	return nil
}

// columnValue is what a row shows for a file or image column.
func columnValue(tx *store.Tx, e *model.Entity, id string, a *model.Attribute) (any, error) {
	if fileKind(a) == "File" {
		f, err := tx.ColumnFile(e.LogicalName, id, a.LogicalName, "")
		if errors.Is(err, store.ErrNoFile) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return f.ID, nil
	}
	f, err := tx.ColumnFile(e.LogicalName, id, a.LogicalName, thumbnailVariant)
	if errors.Is(err, store.ErrNoFile) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := tx.FileData(f)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// existingRow resolves the addressed row and checks that it exists.
func existingRow(tx *store.Tx, req *Request) (string, error) {
	e := req.Res.Entity
	id, err := rowID(tx, req)
	if err != nil {
		return "", err
	}
	ok, err := tx.Exists(e, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", dverr.RecordNotFound(e.LogicalName, id)
	}
	return strings.ToLower(id), nil
}

// streamTx is the transaction a request's file data is read and written in: its change set's
// inside a $batch change set, else none (each block in a short statement of its own).
func streamTx(req *Request) *store.Tx {
	if req.cs != nil {
		return req.cs.tx
	}
	return nil
}

// uploadFileName is the file name of an upload: the x-ms-file-name header, else the query
// parameter of that name.
func uploadFileName(req *Request) string {
	if n := req.R.Header.Get("x-ms-file-name"); n != "" {
		return n
	}
	n, _ := req.Query.Get("x-ms-file-name")
	return n
}

// uploadFile serves PATCH {set}({key})/{column}: an upload in one request, the start of a chunked
// upload (x-ms-transfer-mode: chunked), or one chunk of it (?sessiontoken=...).
func (s *Handler) uploadFile(req *Request) (*wire.Response, error) {
	if token, ok := req.Query.Get("sessiontoken"); ok {
		return s.uploadChunk(req, token)
	}
	e, a := req.Res.Entity, req.Res.Property
	st := columnFileSettings(a)
	var id string
	if err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		id, err = existingRow(tx, req)
		return err
	}); err != nil {
		return nil, err
	}
	name := uploadFileName(req)
	if strings.EqualFold(strings.TrimSpace(req.R.Header.Get("x-ms-transfer-mode")), "chunked") {
		if name == "" {
			return nil, badUploadRequest("The file name is missing: send it in the x-ms-file-name header or query parameter.")
		}
		f := s.newUpload(e, id, a, "", name, st.maxBytes)
		f.Token = newSessionToken()
		if err := s.store.BeginUpload(req.Ctx, streamTx(req), f); err != nil {
			return nil, err
		}
		resp := wire.NewResponse(http.StatusOK)
		loc := req.Base + e.EntitySetName + "(" + id + ")/" + a.LogicalName + "?sessiontoken=" + url.QueryEscape(f.Token)
		resp.Header.Set("Location", loc)
		resp.Header.Set("Accept-Ranges", "bytes")
		resp.Header.Set("x-ms-chunk-size", strconv.Itoa(fileChunkSize))
		resp.Header.Set("Access-Control-Expose-Headers", "x-ms-chunk-size")
		return resp, nil
	}
	if name == "" {
		return nil, badUploadRequest("The file name is missing: send it in the x-ms-file-name header.")
	}
	limit := st.maxBytes
	if limit > singleUploadLimit {
		limit = singleUploadLimit
	}
	if req.R.ContentLength > limit {
		return nil, s.tooLarge(st, req.R.ContentLength)
	}
	f := s.newUpload(e, id, a, "", name, limit)
	tx := streamTx(req)
	if err := s.store.BeginUpload(req.Ctx, tx, f); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			s.store.AbortUpload(req.Ctx, tx, f.ID)
		}
	}()
	if _, err := s.store.AppendUpload(req.Ctx, tx, f.ID, 0, req.R.Body); err != nil {
		return nil, s.appendError(err, st)
	}
	if err := s.commitFile(req, f.ID, "", ""); err != nil {
		return nil, err
	}
	committed = true
	return wire.NewResponse(http.StatusNoContent), nil
}

// tooLarge is the error for an upload of size bytes over a column's limit.
func (s *Handler) tooLarge(st fileSettings, size int64) error {
	if st.kind == "Image" {
		return imageTooLarge(st.maxBytes, size)
	}
	return fileTooLarge()
}

// appendError turns a store error of an upload into Dataverse's.
func (s *Handler) appendError(err error, st fileSettings) error {
	switch {
	case errors.Is(err, store.ErrFileTooLarge):
		return s.tooLarge(st, st.maxBytes+1)
	case errors.Is(err, store.ErrFileOffset):
		return badUploadRequest("The Content-Range does not continue the data uploaded so far.")
	case errors.Is(err, store.ErrNoFile):
		return badUploadRequest("The upload session is not valid or has ended.")
	}
	return err
}

// newUpload describes an upload to a row's column.
func (s *Handler) newUpload(e *model.Entity, id string, a *model.Attribute, variant, name string, maxBytes int64) *store.File {
	return &store.File{
		ID: s.cfg.NewID(), Entity: e.LogicalName, RecordID: id, Attribute: a.LogicalName, Variant: variant,
		Name: name, MimeType: mimeTypeOf(name), Size: -1, MaxSize: maxBytes, CreatedOn: s.cfg.Clock(),
	}
}

// newSessionToken returns an unguessable upload session token.
func newSessionToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mimeTypes are the MIME types the emulator gives files by their extension; others are
// application/octet-stream. Dataverse's own table is not documented.
var mimeTypes = map[string]string{
	".txt": "text/plain", ".csv": "text/csv", ".htm": "text/html", ".html": "text/html", ".xml": "text/xml",
	".json": "application/json", ".pdf": "application/pdf", ".zip": "application/zip",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".bmp": "image/bmp",
	".tif": "image/tiff", ".tiff": "image/tiff", ".svg": "image/svg+xml",
	".doc": "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls": "application/vnd.ms-excel", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".mp4": "video/mp4", ".mp3": "audio/mpeg",
}

func mimeTypeOf(name string) string {
	if t, ok := mimeTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// contentRange is a parsed Content-Range header of an upload chunk: bytes first-last/size.
type contentRange struct{ first, last, size int64 }

// parseContentRange parses "bytes first-last/size" as chunked uploads send it; the range must lie
// inside the size.
func parseContentRange(h string) (contentRange, error) {
	var cr contentRange
	unit, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return cr, fmt.Errorf("want 'bytes <first>-<last>/<size>'")
	}
	rng, size, ok := strings.Cut(strings.TrimSpace(rest), "/")
	if !ok {
		return cr, fmt.Errorf("want 'bytes <first>-<last>/<size>'")
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return cr, fmt.Errorf("want 'bytes <first>-<last>/<size>'")
	}
	var err error
	if cr.first, err = parseByteCount(first); err != nil {
		return cr, err
	}
	if cr.last, err = parseByteCount(last); err != nil {
		return cr, err
	}
	if cr.size, err = parseByteCount(size); err != nil {
		return cr, err
	}
	if cr.first > cr.last || cr.last >= cr.size {
		return cr, fmt.Errorf("the range %d-%d does not fit a size of %d", cr.first, cr.last, cr.size)
	}
	return cr, nil
}

// parseByteCount parses a non-negative decimal byte count (digits only, no sign).
func parseByteCount(s string) (int64, error) {
	if s == "" || len(s) > 18 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a byte count", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// uploadChunk serves PATCH {set}({key})/{column}?sessiontoken=...: one chunk of a chunked upload,
// answered 206, or 204 with the last one, which commits the file.
func (s *Handler) uploadChunk(req *Request, token string) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	st := columnFileSettings(a)
	tx := streamTx(req)
	f, err := s.store.Upload(req.Ctx, tx, token)
	if errors.Is(err, store.ErrNoFile) {
		return nil, badUploadRequest("The upload session is not valid or has ended.")
	}
	if err != nil {
		return nil, err
	}
	var id string
	if err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		id, err = existingRow(tx, req)
		return err
	}); err != nil {
		return nil, err
	}
	if f.Entity != e.LogicalName || f.RecordID != id || f.Attribute != a.LogicalName {
		return nil, badUploadRequest("The upload session belongs to another column or row.")
	}
	cr, err := parseContentRange(req.R.Header.Get("Content-Range"))
	if err != nil {
		return nil, badUploadRequest("The Content-Range header is not valid: %v.", err)
	}
	if cr.size > f.MaxSize {
		return nil, s.tooLarge(st, cr.size)
	}
	want := cr.last - cr.first + 1
	if req.R.ContentLength >= 0 && req.R.ContentLength != want {
		return nil, badUploadRequest("The body has %d bytes where the Content-Range announces %d.", req.R.ContentLength, want)
	}
	// One byte more than announced is read, to tell a longer body from an exact one.
	n, err := s.store.AppendUpload(req.Ctx, tx, f.ID, cr.first, io.LimitReader(req.R.Body, want+1))
	if err == nil && n != want {
		err = badUploadRequest("The body has %d bytes where the Content-Range announces %d.", n, want)
	}
	if err != nil {
		// A failed chunk ends the session, so no partial file can be committed.
		s.store.AbortUpload(req.Ctx, tx, f.ID)
		return nil, s.appendError(err, st)
	}
	if cr.last+1 < cr.size {
		return wire.NewResponse(http.StatusPartialContent), nil
	}
	name := uploadFileName(req)
	if err := s.commitFile(req, f.ID, name, ""); err != nil {
		s.store.AbortUpload(req.Ctx, tx, f.ID)
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// commitFile makes a complete upload its column's value: a file column's file (and its _name),
// or, for an image column, the thumbnail made from it (and the full image when the column keeps
// it, and its id, _timestamp and _url). The upload's data is checked first (an image must
// decode); on error the caller aborts the upload.
func (s *Handler) commitFile(req *Request, uploadID, name, mimeType string) error {
	tx := streamTx(req)
	f, err := s.store.FileByID(req.Ctx, tx, uploadID)
	if err != nil {
		return s.appendError(err, fileSettings{})
	}
	e, ok := s.store.Schema().Entity(f.Entity)
	if !ok {
		return dverr.ResourceNotFound(f.Entity)
	}
	a, ok := e.Attribute(f.Attribute)
	if !ok || fileKind(a) == "" {
		return badUploadRequest("The column '%s' of '%s' no longer exists.", f.Attribute, f.Entity)
	}
	st := columnFileSettings(a)
	var thumbID string
	if st.kind == "Image" {
		if f.Received > st.maxBytes {
			return imageTooLarge(st.maxBytes, f.Received)
		}
		data, err := s.store.FileBytes(req.Ctx, tx, &store.File{ID: f.ID, Size: f.Received})
		if err != nil {
			return err
		}
		thumb, mt, ok := thumbnail(data)
		if !ok {
			return notAnImage(e, f.RecordID, a)
		}
		mimeType = mt
		thumbName := name
		if thumbName == "" {
			thumbName = f.Name
		}
		t := s.newUpload(e, f.RecordID, a, thumbnailVariant, thumbName, int64(len(thumb)))
		t.MimeType = mt
		if err := s.store.BeginUpload(req.Ctx, tx, t); err != nil {
			return err
		}
		if _, err := s.store.AppendUpload(req.Ctx, tx, t.ID, 0, bytes.NewReader(thumb)); err != nil {
			s.store.AbortUpload(req.Ctx, tx, t.ID)
			return err
		}
		thumbID = t.ID
	}
	err = s.InTx(req, true, func(tx *store.Tx) error {
		if ok, err := tx.Exists(e, f.RecordID); err != nil || !ok {
			if err != nil {
				return err
			}
			return dverr.RecordNotFound(e.LogicalName, f.RecordID)
		}
		row := model.Row{}
		if st.kind == "File" {
			c, err := tx.CommitUpload(f.ID, name, mimeType)
			if err != nil {
				return err
			}
			setIfColumn(e, row, a.LogicalName+"_name", c.Name)
		} else {
			if _, err := tx.DeleteColumnFiles(e.LogicalName, f.RecordID, a.LogicalName); err != nil {
				return err
			}
			t, err := tx.CommitUpload(thumbID, "", "")
			if err != nil {
				return err
			}
			if st.fullImage {
				if _, err := tx.CommitUpload(f.ID, name, mimeType); err != nil {
					return err
				}
			}
			ts := s.cfg.Clock().UnixNano()/100 + dotnetEpochTicks
			setIfColumn(e, row, a.LogicalName+"id", t.ID)
			setIfColumn(e, row, a.LogicalName+"_timestamp", ts)
			setIfColumn(e, row, a.LogicalName+"_url", fmt.Sprintf("/Image/download.aspx?Entity=%s&Attribute=%s&Id=%s&Timestamp=%d", e.LogicalName, a.LogicalName, t.ID, ts))
		}
		return s.newWriter(req.Ctx, tx, req.Caller).update(&writePlan{Entity: e, Row: row}, f.RecordID)
	})
	if err != nil && thumbID != "" {
		s.store.AbortUpload(req.Ctx, tx, thumbID)
	}
	if err == nil && st.kind == "Image" && !st.fullImage {
		// The upload served to make the thumbnail; without full-size storage it is dropped.
		s.store.AbortUpload(req.Ctx, tx, f.ID)
	}
	return err
}

// setIfColumn sets a companion column in row when the table has it.
func setIfColumn(e *model.Entity, row model.Row, name string, v any) {
	a, ok := e.Attribute(name)
	if !ok || !a.Stored() {
		return
	}
	switch x := v.(type) {
	case int64:
		if a.Type == model.TypeBigInt || a.Type == model.TypeInteger {
			row[name] = x
		}
	default:
		row[name] = v
	}
}

// byteRange is a parsed Range header: bytes first-last (inclusive), either end optional.
type byteRange struct {
	first, last int64 // -1 when absent
}

// parseRange parses a Range header of one byte range: bytes=first-last, bytes=first- or
// bytes=-suffix.
func parseRange(h string) (byteRange, error) {
	r := byteRange{first: -1, last: -1}
	unit, spec, ok := strings.Cut(strings.TrimSpace(h), "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return r, fmt.Errorf("want 'bytes=<first>-<last>'")
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return r, fmt.Errorf("only one range is supported")
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return r, fmt.Errorf("want 'bytes=<first>-<last>'")
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	var err error
	if first != "" {
		if r.first, err = parseByteCount(first); err != nil {
			return r, err
		}
	}
	if last != "" {
		if r.last, err = parseByteCount(last); err != nil {
			return r, err
		}
	}
	switch {
	case first == "" && last == "":
		return r, fmt.Errorf("want 'bytes=<first>-<last>'")
	case first != "" && last != "" && r.first > r.last:
		return r, fmt.Errorf("the range %d-%d is backwards", r.first, r.last)
	}
	return r, nil
}

// resolve returns the inclusive bounds of the range in a file of size bytes; ok is false when
// none of it lies in the file.
func (r byteRange) resolve(size int64) (first, last int64, ok bool) {
	switch {
	case r.first < 0: // a suffix: the last r.last bytes
		if r.last == 0 || size == 0 {
			return 0, 0, false
		}
		return max(size-r.last, 0), size - 1, true
	case r.first >= size:
		return 0, 0, false
	case r.last < 0 || r.last >= size:
		return r.first, size - 1, true
	}
	return r.first, r.last, true
}

// downloadFile serves GET {set}({key})/{column}/$value: the whole file (200) or the range the
// Range header asks for (206), with x-ms-file-size, x-ms-file-name and mimetype. An image column
// gives its thumbnail, or with ?size=full its full-size image (204 when not kept). Without $value
// (asJSON) the same bytes come as {"value": "<base64>"}, the form client libraries that download
// through the property URL (dynamics-web-api) read; the documentation describes only $value.
func (s *Handler) downloadFile(req *Request, asJSON bool) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	st := columnFileSettings(a)
	variant := ""
	if st.kind == "Image" {
		variant = thumbnailVariant
		if size, _ := req.Query.Get("size"); strings.EqualFold(size, "full") {
			variant = ""
		}
	}
	var f *store.File
	var empty bool
	err := s.InTx(req, false, func(tx *store.Tx) error {
		id, err := existingRow(tx, req)
		if err != nil {
			return err
		}
		f, err = tx.ColumnFile(e.LogicalName, id, a.LogicalName, variant)
		if errors.Is(err, store.ErrNoFile) {
			if st.kind == "Image" {
				empty = true
				return nil
			}
			return noFile(e, id, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if empty {
		return wire.NewResponse(http.StatusNoContent), nil
	}
	first, last, status := int64(0), f.Size-1, http.StatusOK
	// A range of an empty file has nothing to select; the (empty) file is the answer.
	if h := req.R.Header.Get("Range"); h != "" && f.Size > 0 {
		r, err := parseRange(h)
		if err != nil {
			return nil, badUploadRequest("The Range header is not valid: %v.", err)
		}
		var ok bool
		if first, last, ok = r.resolve(f.Size); !ok {
			return nil, rangeNotSatisfiable(f.Size)
		}
		status = http.StatusPartialContent
	}
	resp := wire.NewResponse(status)
	h := resp.Header
	n := max(last-first+1, 0)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("x-ms-file-size", strconv.FormatInt(f.Size, 10))
	h.Set("x-ms-file-name", f.Name)
	h.Set("mimetype", f.MimeType)
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, f.Size))
		h.Set("x-ms-chunk-size", strconv.Itoa(fileChunkSize))
		h.Set("Access-Control-Expose-Headers", "x-ms-file-size; x-ms-file-name; x-ms-chunk-size; mimetype")
	} else {
		h.Set("Access-Control-Expose-Headers", "x-ms-file-size; x-ms-file-name; mimetype")
	}
	tx, ctx, id := streamTx(req), req.Ctx, f.ID
	resp.Stream = func(w io.Writer) error {
		return s.store.CopyFile(ctx, tx, id, first, last, w)
	}
	if asJSON {
		h.Set("Content-Type", "application/json; odata.metadata=minimal")
		h.Set("Content-Length", strconv.FormatInt(int64(len(`{"value":""}`))+(n+2)/3*4, 10))
		resp.Stream = func(w io.Writer) error {
			if _, err := io.WriteString(w, `{"value":"`); err != nil {
				return err
			}
			enc := base64.NewEncoder(base64.StdEncoding, w)
			if err := s.store.CopyFile(ctx, tx, id, first, last, enc); err != nil {
				return err
			}
			if err := enc.Close(); err != nil {
				return err
			}
			_, err := io.WriteString(w, `"}`)
			return err
		}
	}
	return resp, nil
}

// deleteFile serves DELETE {set}({key})/{column}: the column's file (or image) is removed and
// its companion columns cleared. 204 whether or not it had one.
func (s *Handler) deleteFile(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := existingRow(tx, req)
		if err != nil {
			return err
		}
		return s.clearFileColumn(req, tx, e, id, a)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// clearFileColumn removes a row's file or image and clears its companion columns.
func (s *Handler) clearFileColumn(req *Request, tx *store.Tx, e *model.Entity, id string, a *model.Attribute) error {
	had, err := tx.DeleteColumnFiles(e.LogicalName, id, a.LogicalName)
	if err != nil || !had {
		return err
	}
	row := model.Row{}
	for _, c := range []string{"_name", "id", "_timestamp", "_url"} {
		if fileKind(a) == "File" && c != "_name" || fileKind(a) == "Image" && c == "_name" {
			continue
		}
		setIfColumn(e, row, a.LogicalName+c, nil)
	}
	return s.newWriter(req.Ctx, tx, req.Caller).update(&writePlan{Entity: e, Row: row}, id)
}

// putImage serves PUT {set}({key})/{image column} with {"value": null} (which clears it) or
// {"value": "<base64 image>"} (which sets it).
func (s *Handler) putImage(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	body, err := readJSONBody(req, e.EntitySetName)
	if err != nil {
		return nil, err
	}
	var raw []byte
	for _, m := range body.Members() {
		if m.Name == "value" {
			raw = m.Raw()
		}
	}
	if raw == nil {
		return nil, payloadError(e.EntitySetName, "A property value must be sent as {\"value\": ...}.")
	}
	if string(raw) == "null" {
		return s.deleteFile(req)
	}
	var b64 string
	if err := json.Unmarshal(raw, &b64); err != nil {
		return nil, payloadError(e.EntitySetName, "An image value must be a base64 string.")
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, payloadError(e.EntitySetName, "An image value must be a base64 string.")
	}
	st := columnFileSettings(a)
	if int64(len(data)) > st.maxBytes {
		return nil, imageTooLarge(st.maxBytes, int64(len(data)))
	}
	var id string
	if err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		id, err = existingRow(tx, req)
		return err
	}); err != nil {
		return nil, err
	}
	f := s.newUpload(e, id, a, "", "image", st.maxBytes)
	tx := streamTx(req)
	if err := s.store.BeginUpload(req.Ctx, tx, f); err != nil {
		return nil, err
	}
	if _, err := s.store.AppendUpload(req.Ctx, tx, f.ID, 0, bytes.NewReader(data)); err != nil {
		s.store.AbortUpload(req.Ctx, tx, f.ID)
		return nil, s.appendError(err, st)
	}
	if err := s.commitFile(req, f.ID, "", ""); err != nil {
		s.store.AbortUpload(req.Ctx, tx, f.ID)
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}
