package webapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The message-based file transfer of file and image columns: InitializeFileBlocksUpload,
// UploadBlock and CommitFileBlocksUpload; InitializeFileBlocksDownload and DownloadBlock; and
// DeleteFile. Their logic is in plain functions of decoded parameters (fileBlocks*); the
// operations registered below only decode the parameters and shape the answers.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#use-dataverse-messages-to-upload-a-file

const (
	// maxBlockBytes bounds one block of UploadBlock and DownloadBlock: Dataverse takes blocks of
	// up to 4 MB.
	maxBlockBytes = 4 << 20
	// maxBlockIDBytes bounds a decoded BlockId, as Dataverse documents.
	maxBlockIDBytes = 64
)

// badFileToken refuses an unknown or ended continuation token (message not documented).
func badFileToken() error {
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The file continuation token is not valid or has expired.")
}

// fileColumnOf resolves a table's file or image column by name.
func fileColumnOf(e *model.Entity, name string) (*model.Attribute, error) {
	a, ok := e.Attribute(name)
	if !ok {
		return nil, dverr.PropertyNotFound(name, e.LogicalName)
	}
	if fileKind(a) == "" {
		return nil, notFileColumn(e, a)
	}
	return a, nil
}

// fileBlocksInitUpload starts a block upload to a row's column and returns its continuation
// token.
func (s *Handler) fileBlocksInitUpload(req *Request, e *model.Entity, id string, column, fileName string) (string, error) {
	a, err := fileColumnOf(e, column)
	if err != nil {
		return "", err
	}
	if fileName == "" {
		return "", badUploadRequest("The FileName parameter is required.")
	}
	f := s.newUpload(e, id, a, "", fileName, columnFileSettings(a).maxBytes)
	f.Token = newSessionToken()
	if err := s.store.BeginUpload(req.Ctx, streamTx(req), f); err != nil {
		return "", err
	}
	return f.Token, nil
}

// fileBlocksUpload keeps one block of a block upload.
func (s *Handler) fileBlocksUpload(req *Request, token, blockID string, data []byte) error {
	f, err := s.store.Upload(req.Ctx, streamTx(req), token)
	if errors.Is(err, store.ErrNoFile) {
		return badFileToken()
	}
	if err != nil {
		return err
	}
	if raw, err := base64.StdEncoding.DecodeString(blockID); err != nil || len(raw) == 0 || len(raw) > maxBlockIDBytes {
		return badUploadRequest("The BlockId must be a base64 string of 1 to %d bytes.", maxBlockIDBytes)
	}
	if len(data) > maxBlockBytes {
		return badUploadRequest("A block may hold at most %d bytes.", maxBlockBytes)
	}
	err = s.store.PutBlock(req.Ctx, streamTx(req), f.ID, blockID, data)
	if errors.Is(err, store.ErrFileTooLarge) {
		e, _ := s.store.Schema().Entity(f.Entity)
		var a *model.Attribute
		if e != nil {
			a, _ = e.Attribute(f.Attribute)
		}
		return s.tooLarge(columnFileSettings(a), f.MaxSize+1)
	}
	return err
}

// fileBlocksCommit orders the blocks of a block upload as blockList says, makes the result the
// column's value and returns the stored file.
func (s *Handler) fileBlocksCommit(req *Request, token, fileName, mimeType string, blockList []string) (*store.File, error) {
	f, err := s.store.Upload(req.Ctx, streamTx(req), token)
	if errors.Is(err, store.ErrNoFile) {
		return nil, badFileToken()
	}
	if err != nil {
		return nil, err
	}
	err = s.InTx(req, true, func(tx *store.Tx) error { return tx.OrderBlocks(f.ID, blockList) })
	if errors.Is(err, store.ErrUnknownBlock) {
		return nil, badUploadRequest("The BlockList names a block that was not uploaded, or names one twice.")
	}
	if err != nil {
		return nil, err
	}
	if err := s.commitFile(req, f.ID, fileName, mimeType); err != nil {
		s.store.AbortUpload(req.Ctx, streamTx(req), f.ID)
		return nil, err
	}
	var out *store.File
	err = s.InTx(req, false, func(tx *store.Tx) error {
		c, err := tx.ColumnFile(f.Entity, f.RecordID, f.Attribute, "")
		if errors.Is(err, store.ErrNoFile) {
			c, err = tx.ColumnFile(f.Entity, f.RecordID, f.Attribute, thumbnailVariant)
		}
		out = c
		return err
	})
	return out, err
}

// fileBlocksInitDownload finds the file of a row's column (an image column's full-size image)
// and returns it; its id is the continuation token of DownloadBlock.
func (s *Handler) fileBlocksInitDownload(req *Request, tx *store.Tx, e *model.Entity, id, column string) (*store.File, error) {
	a, err := fileColumnOf(e, column)
	if err != nil {
		return nil, err
	}
	f, err := tx.ColumnFile(e.LogicalName, id, a.LogicalName, "")
	if errors.Is(err, store.ErrNoFile) {
		if fileKind(a) == "Image" {
			return nil, dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "No FileAttachment records found for imagedescriptorId: %s for image attribute: %s of %s record with id %s.", "00000000-0000-0000-0000-000000000000", a.LogicalName, e.LogicalName, id)
		}
		return nil, noFile(e, id, a)
	}
	return f, err
}

// fileBlocksDownload returns length bytes of the file token names, from offset.
func (s *Handler) fileBlocksDownload(req *Request, token string, offset, length int64) ([]byte, error) {
	if offset < 0 || length <= 0 || length > maxBlockBytes {
		return nil, badUploadRequest("Offset must not be negative and BlockLength must be between 1 and %d.", maxBlockBytes)
	}
	f, err := s.store.FileByID(req.Ctx, streamTx(req), token)
	if errors.Is(err, store.ErrNoFile) || (err == nil && !f.Committed) {
		return nil, badFileToken()
	}
	if err != nil {
		return nil, err
	}
	if offset >= f.Size {
		return []byte{}, nil
	}
	var buf bytesWriter
	if err := s.store.CopyFile(req.Ctx, streamTx(req), f.ID, offset, min(offset+length, f.Size)-1, &buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// fileDelete removes a file by its id and clears its column.
func (s *Handler) fileDelete(req *Request, fileID string) error {
	return s.InTx(req, true, func(tx *store.Tx) error {
		f, err := s.store.FileByID(req.Ctx, tx, fileID)
		if errors.Is(err, store.ErrNoFile) || (err == nil && !f.Committed) {
			return dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "No file attachment with id %s was found.", fileID)
		}
		if err != nil {
			return err
		}
		e, ok := tx.Schema().Entity(f.Entity)
		if !ok {
			return dverr.ResourceNotFound(f.Entity)
		}
		a, ok := e.Attribute(f.Attribute)
		if !ok {
			_, err := tx.DeleteFileByID(fileID)
			return err
		}
		return s.clearFileColumn(req, tx, e, f.RecordID, a)
	})
}

// bytesWriter collects what is written to it.
type bytesWriter []byte

func (b *bytesWriter) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

// int64Arg reads an integer parameter the registry checked.
func int64Arg(a *Args, name string) int64 {
	n, _ := a.Values[name].(json.Number)
	v, _ := strconv.ParseInt(n.String(), 10, 64)
	return v
}

// fileTarget resolves the Target row of a file message.
func (s *Handler) fileTarget(req *Request, tx *store.Tx, a *Args) (*model.Entity, string, error) {
	return s.recordRef(req, tx, "Target", a.Values["Target"])
}

func init() {
	target := Param{Name: "Target", Type: "mscrm.crmbaseentity"}
	token := Param{Name: "FileContinuationToken", Type: "Edm.String"}
	registerBuiltin(
		withOp(&Operation{Name: "InitializeFileBlocksUpload", Kind: Action,
			Params:  []Param{target, {Name: "FileAttributeName", Type: "Edm.String"}, {Name: "FileName", Type: "Edm.String"}},
			Returns: "mscrm.InitializeFileBlocksUploadResponse", Response: []Param{token}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				var e *model.Entity
				var id string
				err := s.InTx(req, false, func(tx *store.Tx) error {
					var err error
					e, id, err = s.fileTarget(req, tx, a)
					return err
				})
				if err != nil {
					return nil, err
				}
				tok, err := s.fileBlocksInitUpload(req, e, id, a.String("FileAttributeName"), a.String("FileName"))
				if err != nil {
					return nil, err
				}
				body := wire.NewObject()
				body.Set("FileContinuationToken", tok)
				return OperationResponse(req, op.Returns, body), nil
			}),
		withOp(&Operation{Name: "UploadBlock", Kind: Action,
			Params: []Param{{Name: "BlockId", Type: "Edm.String"}, {Name: "BlockData", Type: "Edm.Binary"}, token}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				data, err := base64.StdEncoding.DecodeString(a.String("BlockData"))
				if err != nil {
					return nil, errParam("The parameter 'BlockData' is not valid base64.")
				}
				if err := s.fileBlocksUpload(req, a.String("FileContinuationToken"), a.String("BlockId"), data); err != nil {
					return nil, err
				}
				return wire.NewResponse(http.StatusNoContent), nil
			}),
		withOp(&Operation{Name: "CommitFileBlocksUpload", Kind: Action,
			Params: []Param{{Name: "FileName", Type: "Edm.String"}, {Name: "MimeType", Type: "Edm.String"},
				{Name: "BlockList", Type: "Collection(Edm.String)"}, token},
			Returns:  "mscrm.CommitFileBlocksUploadResponse",
			Response: []Param{{Name: "FileId", Type: "Edm.Guid"}, {Name: "FileSizeInBytes", Type: "Edm.Int64"}}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				list, _ := a.Values["BlockList"].([]any)
				ids := make([]string, 0, len(list))
				for _, v := range list {
					str, _ := v.(string)
					ids = append(ids, str)
				}
				f, err := s.fileBlocksCommit(req, a.String("FileContinuationToken"), a.String("FileName"), a.String("MimeType"), ids)
				if err != nil {
					return nil, err
				}
				body := wire.NewObject()
				body.Set("FileId", f.ID)
				body.Set("FileSizeInBytes", f.Size)
				return OperationResponse(req, op.Returns, body), nil
			}),
		withOp(&Operation{Name: "InitializeFileBlocksDownload", Kind: Action,
			Params:  []Param{target, {Name: "FileAttributeName", Type: "Edm.String"}},
			Returns: "mscrm.InitializeFileBlocksDownloadResponse",
			Response: []Param{token, {Name: "FileSizeInBytes", Type: "Edm.Int64"}, {Name: "FileName", Type: "Edm.String"},
				{Name: "IsChunkingSupported", Type: "Edm.Boolean"}}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				var f *store.File
				err := s.InTx(req, false, func(tx *store.Tx) error {
					e, id, err := s.fileTarget(req, tx, a)
					if err != nil {
						return err
					}
					f, err = s.fileBlocksInitDownload(req, tx, e, id, a.String("FileAttributeName"))
					return err
				})
				if err != nil {
					return nil, err
				}
				body := wire.NewObject()
				body.Set("FileContinuationToken", f.ID)
				body.Set("FileSizeInBytes", f.Size)
				body.Set("FileName", f.Name)
				body.Set("IsChunkingSupported", true)
				return OperationResponse(req, op.Returns, body), nil
			}),
		withOp(&Operation{Name: "DownloadBlock", Kind: Action,
			Params:  []Param{{Name: "Offset", Type: "Edm.Int64"}, {Name: "BlockLength", Type: "Edm.Int64"}, token},
			Returns: "mscrm.DownloadBlockResponse", Response: []Param{{Name: "Data", Type: "Edm.Binary"}}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				data, err := s.fileBlocksDownload(req, a.String("FileContinuationToken"), int64Arg(a, "Offset"), int64Arg(a, "BlockLength"))
				if err != nil {
					return nil, err
				}
				body := wire.NewObject()
				body.Set("Data", base64.StdEncoding.EncodeToString(data))
				return OperationResponse(req, op.Returns, body), nil
			}),
		withOp(&Operation{Name: "DeleteFile", Kind: Action, Params: []Param{{Name: "FileId", Type: "Edm.Guid"}}},
			func(s *Handler, req *Request, op *Operation, a *Args) (*wire.Response, error) {
				if err := s.fileDelete(req, a.String("FileId")); err != nil {
					return nil, err
				}
				return wire.NewResponse(http.StatusNoContent), nil
			}),
	)
}
