package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// DefaultFileChunkSize is the chunk size of file transfers when neither the options nor the
// service say otherwise: 4 MB, the size Dataverse recommends.
const DefaultFileChunkSize = 4 << 20

// UploadFileOptions tune UploadFile.
type UploadFileOptions struct {
	// Size is the number of bytes r holds. It is needed only when r is larger than one chunk and
	// can tell neither its length (Len) nor, by seeking, its size.
	Size int64
	// ChunkSize is the size of each chunk of a chunked upload, and the largest input sent in a
	// single request; 0 means DefaultFileChunkSize.
	ChunkSize int
}

// DownloadFileOptions tune DownloadFile.
type DownloadFileOptions struct {
	// ChunkSize is how many bytes each ranged request asks for; 0 means DefaultFileChunkSize.
	ChunkSize int
	// FullSize downloads an image column's full-size image (?size=full) rather than its
	// thumbnail.
	FullSize bool
}

// FileInfo describes a downloaded file, as the response headers give it.
type FileInfo struct {
	// Name is the file's name (x-ms-file-name).
	Name string
	// Size is the file's size in bytes (x-ms-file-size).
	Size int64
	// MimeType is its MIME type (the mimetype header).
	MimeType string
}

// filePath returns "<set>(<key>)/<column>".
func filePath(entitySet, key, column string) (string, error) {
	p, err := recordPath(entitySet, key)
	if err != nil {
		return "", err
	}
	if err := checkName("column", column); err != nil {
		return "", err
	}
	return p + "/" + column, nil
}

// inputSize returns how many bytes r holds from its current position, or -1 when it cannot tell.
func inputSize(r io.Reader) (int64, error) {
	switch x := r.(type) {
	case interface{ Len() int }:
		return int64(x.Len()), nil
	case io.Seeker:
		cur, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1, nil
		}
		end, err := x.Seek(0, io.SeekEnd)
		if err != nil {
			return -1, nil
		}
		if _, err := x.Seek(cur, io.SeekStart); err != nil {
			return 0, fmt.Errorf("client: upload file: rewind input: %w", err)
		}
		return end - cur, nil
	}
	return -1, nil
}

// UploadFile sets a file or image column of a row to the content of r, named fileName. An input
// that fits in one chunk goes in a single PATCH; a larger one in a chunked upload (a PATCH with
// x-ms-transfer-mode: chunked, then one PATCH per chunk with Content-Range), holding one chunk
// in memory at a time. The response is the last request's.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#upload-files
func (c *Client) UploadFile(ctx context.Context, entitySet, key, column, fileName string, r io.Reader, opts *UploadFileOptions) (*Response, error) {
	if opts == nil {
		opts = &UploadFileOptions{}
	}
	path, err := filePath(entitySet, key, column)
	if err != nil {
		return nil, err
	}
	if fileName == "" {
		return nil, fmt.Errorf("client: upload file: empty file name: %w", ErrInvalidInput)
	}
	if r == nil {
		return nil, fmt.Errorf("client: upload file: nil reader: %w", ErrInvalidInput)
	}
	chunk := opts.ChunkSize
	if chunk <= 0 {
		chunk = DefaultFileChunkSize
	}
	size := opts.Size
	if size <= 0 {
		if size, err = inputSize(r); err != nil {
			return nil, err
		}
	}
	// The first chunk is read up front: an input that ends within it is sent in one request.
	first := make([]byte, chunk)
	n, err := io.ReadFull(r, first)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("client: upload file: read input: %w", err)
	}
	if n < chunk {
		req := c.apiRequest(http.MethodPatch, path, nil)
		req.header.Set("x-ms-file-name", fileName)
		req.body, req.contentType = first[:n], "application/octet-stream"
		resp, _, err := c.send(ctx, req)
		return resp, err
	}
	if size < 0 {
		return nil, fmt.Errorf("client: upload file: the input is larger than one chunk and its size is unknown: set UploadFileOptions.Size: %w", ErrInvalidInput)
	}
	start := c.apiRequest(http.MethodPatch, path, query{{Key: "x-ms-file-name", Value: fileName}})
	start.header.Set("x-ms-transfer-mode", "chunked")
	resp, _, err := c.send(ctx, start)
	if err != nil {
		return resp, err
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return resp, fmt.Errorf("dataverse: PATCH %s: chunked upload started without a Location", redactURL(start.url))
	}
	buf := first
	for off := int64(0); ; {
		if off+int64(n) > size {
			return resp, fmt.Errorf("client: upload file: the input holds more than its size of %d bytes: %w", size, ErrInvalidInput)
		}
		req := &request{method: http.MethodPatch, url: loc, header: http.Header{}}
		req.header.Set("x-ms-file-name", fileName)
		req.header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+int64(n)-1, size))
		req.body, req.contentType = buf[:n], "application/octet-stream"
		if resp, _, err = c.send(ctx, req); err != nil {
			return resp, err
		}
		off += int64(n)
		if off == size {
			return resp, nil
		}
		n, err = io.ReadFull(r, buf)
		if err == io.EOF || (err == io.ErrUnexpectedEOF && off+int64(n) < size) || n == 0 {
			return resp, fmt.Errorf("client: upload file: the input ended after %d of its %d bytes: %w", off+int64(n), size, ErrInvalidInput)
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return resp, fmt.Errorf("client: upload file: read input: %w", err)
		}
	}
}

// DownloadFile writes the content of a row's file or image column to w, asking for it in
// ranges of ChunkSize bytes (Range: bytes=first-last), so that at most one chunk is held in
// memory. An image column gives its thumbnail unless FullSize is set. An empty column is an
// error (a 404 *Error for a file column); an image without a full-size image answers 204 and
// a FileInfo of size 0.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#download-files
func (c *Client) DownloadFile(ctx context.Context, entitySet, key, column string, w io.Writer, opts *DownloadFileOptions) (*FileInfo, *Response, error) {
	if opts == nil {
		opts = &DownloadFileOptions{}
	}
	path, err := filePath(entitySet, key, column)
	if err != nil {
		return nil, nil, err
	}
	if w == nil {
		return nil, nil, fmt.Errorf("client: download file: nil writer: %w", ErrInvalidInput)
	}
	chunk := int64(opts.ChunkSize)
	if chunk <= 0 {
		chunk = DefaultFileChunkSize
	}
	var q query
	if opts.FullSize {
		q = query{{Key: "size", Value: "full"}}
	}
	info := &FileInfo{Size: -1}
	var resp *Response
	for off := int64(0); info.Size < 0 || off < info.Size; {
		req := c.apiRequest(http.MethodGet, path+"/$value", q)
		req.header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+chunk-1))
		var body []byte
		if resp, body, err = c.send(ctx, req); err != nil {
			return nil, resp, err
		}
		if resp.StatusCode == http.StatusNoContent {
			return &FileInfo{}, resp, nil
		}
		if info.Size < 0 {
			info.Name, info.MimeType = resp.Header.Get("x-ms-file-name"), resp.Header.Get("mimetype")
			if info.Size, err = strconv.ParseInt(resp.Header.Get("x-ms-file-size"), 10, 64); err != nil || info.Size < 0 {
				// Without the size, a whole (200) answer is the file.
				if resp.StatusCode != http.StatusOK {
					return nil, resp, fmt.Errorf("dataverse: GET %s: no valid x-ms-file-size in a partial answer", redactURL(req.url))
				}
				info.Size = int64(len(body))
			}
		}
		if resp.StatusCode == http.StatusOK {
			// The service sent the whole file rather than the range.
			if _, err := w.Write(body); err != nil {
				return nil, resp, fmt.Errorf("client: download file: write: %w", err)
			}
			return info, resp, nil
		}
		if len(body) == 0 {
			return nil, resp, fmt.Errorf("dataverse: GET %s: empty chunk at %d of %d bytes", redactURL(req.url), off, info.Size)
		}
		if _, err := w.Write(body); err != nil {
			return nil, resp, fmt.Errorf("client: download file: write: %w", err)
		}
		off += int64(len(body))
	}
	return info, resp, nil
}

// DeleteFile removes the file or image of a row's column.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#send-delete-request-to-the-file-column
func (c *Client) DeleteFile(ctx context.Context, entitySet, key, column string) (*Response, error) {
	path, err := filePath(entitySet, key, column)
	if err != nil {
		return nil, err
	}
	resp, _, err := c.send(ctx, c.apiRequest(http.MethodDelete, path, nil))
	return resp, err
}
