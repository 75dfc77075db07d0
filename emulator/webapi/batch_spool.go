package webapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/dynlocal/dynlocal/emulator/batch"
	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// maxBatchBytes bounds a $batch body (1,000 operations with sizeable bodies). It is enforced while
// the body is read, and up front when Content-Length already says more.
const maxBatchBytes = 128 << 20

// batchParts reads the parts of a $batch body that has been checked whole and kept in a temporary
// file, one part at a time.
type batchParts struct {
	*batch.Reader
	file *os.File
}

// spoolBatch reads a $batch body through once, checking its framing part by part while copying it
// to a temporary file, and returns a reader of the file's parts. A malformed or oversized body is
// thus refused before any operation runs, as Dataverse does, while memory holds only about one
// part at a time rather than the whole body.
func spoolBatch(r *http.Request) (*batchParts, error) {
	ct := r.Header.Get("Content-Type")
	f, err := os.CreateTemp("", "dynlocal-batch-*")
	if err != nil {
		return nil, fmt.Errorf("webapi: batch spool: %w", err)
	}
	bp := &batchParts{file: f}
	fail := func(err error) (*batchParts, error) {
		bp.close()
		return nil, err
	}
	check, err := batch.NewReader(ct, io.TeeReader(http.MaxBytesReader(nil, r.Body, maxBatchBytes), f))
	if err != nil {
		return fail(err)
	}
	for {
		_, err := check.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(batchReadError(err))
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("webapi: batch spool: %w", err))
	}
	if bp.Reader, err = batch.NewReader(ct, f); err != nil {
		return fail(err)
	}
	return bp, nil
}

// close removes the temporary file.
func (bp *batchParts) close() {
	bp.file.Close()
	os.Remove(bp.file.Name())
}

// batchReadError turns an error reading a $batch body into the answer: the parser's own errors as
// they are, a body over maxBatchBytes as a 413, another failure to read as a 400.
func batchReadError(err error) error {
	if _, ok := dverr.As(err); ok {
		return err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBatchTooLarge()
	}
	return dverr.BadRequest("The request body could not be read: %v", err)
}

// errBatchTooLarge is the answer to a $batch body over maxBatchBytes.
func errBatchTooLarge() error {
	return dverr.New(http.StatusRequestEntityTooLarge, dverr.CodeNone, "The $batch request body is larger than %d bytes.", maxBatchBytes)
}
