package clientweb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
)

// upload is Upload File: the first file part of a multipart body, whatever
// its field name, checked against the entry's size limit and allowed types
// (sniffed from the bytes, never trusted from the client).
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, c *call) error {
	rules := c.entry.Files
	if rules.Disabled {
		return chat.Errorf(chat.CodeFileRefused, "file upload is disabled for this app")
	}
	// Room for the multipart framing around the largest allowed file.
	body, lift := newIdleReader(w, r.Body, h.UploadIdle)
	defer lift()
	r.Body = http.MaxBytesReader(w, io.NopCloser(body), rules.Limit()+64<<10)
	part, err := firstFilePart(r)
	if err != nil {
		return err
	}
	defer part.Close()
	head512 := bufio.NewReaderSize(part, 512)
	head, err := head512.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return uploadError(err, rules.Limit())
	}
	if len(head) == 0 {
		return chat.Errorf(chat.CodeFileRefused, "the file is empty")
	}
	ctype := http.DetectContentType(head)
	if !rules.Allows(ctype) {
		return chat.Errorf(chat.CodeFileRefused, "files of type %s are not accepted", mediaType(ctype))
	}
	f := chat.File{
		ID: chat.NewID(), ClientKey: c.key, Name: fileName(part.FileName()),
		ContentType: ctype, Created: h.Service.Now(),
	}
	upload := &readRecorder{r: head512}
	if f.Size, err = h.Blobs.Put(r.Context(), f.ID, upload, rules.Limit()); err != nil {
		if upload.err == nil && !errors.Is(err, chat.ErrTooLarge) {
			// The storage failed, not the client's upload: an internal
			// error, logged, whose text the client does not see.
			return fmt.Errorf("store upload: %w", err)
		}
		return uploadError(err, rules.Limit())
	}
	if err := h.Service.Store.PutFile(r.Context(), f); err != nil {
		h.Blobs.Delete(r.Context(), f.ID)
		return fmt.Errorf("store file: %w", err)
	}
	writeJSON(w, map[string]string{"file_id": f.ID, "file_name": f.Name})
	return nil
}

func firstFilePart(r *http.Request) (*multipart.Part, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, chat.Errorf(chat.CodeInvalid, "want a multipart/form-data body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, chat.Errorf(chat.CodeInvalid, "no file in the upload")
		}
		if err != nil {
			return nil, uploadError(err, 0)
		}
		if part.FileName() != "" {
			return part, nil
		}
		part.Close()
	}
}

func uploadError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	if errors.Is(err, chat.ErrTooLarge) || errors.As(err, &tooLarge) {
		return chat.Errorf(chat.CodeTooLarge, "the file exceeds the limit of %d bytes", limit)
	}
	var ce *chat.Error
	if errors.As(err, &ce) {
		return err
	}
	return chat.Errorf(chat.CodeFileRefused, "reading the upload: %v", err)
}

// fileName keeps the base name a client gave, made safe to show and to put
// in a Content-Disposition header.
func fileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if !utf8.ValidString(name) || name == "." || name == ".." || name == "/" || name == "" {
		return "file"
	}
	if len(name) > 255 {
		name = name[:255]
		// Cut at a character boundary: the name must stay valid UTF-8.
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	return name
}

func mediaType(ctype string) string {
	mt, _, _ := strings.Cut(ctype, ";")
	return mt
}

// file is Get File at /clientweb/file/{fileId}: what the SDKs build for
// image views, with no Authorization header. The unguessable id is the key.
func (h *Handler) file(w http.ResponseWriter, r *http.Request) {
	f, err := h.Service.Store.File(r.Context(), r.PathValue("fileId"))
	if err != nil {
		h.fileError(w, r, err)
		return
	}
	h.serveFile(w, r, f)
}

// chatFile is Get File at chats/{chatId}/files/{fileId}, loaded by browsers
// as <img src>: it needs no Authorization header, but the file must belong
// to the chat, or to its client before a chat_session_file named it.
func (h *Handler) chatFile(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	chatID := r.PathValue("chatId")
	f, err := h.Service.Store.File(ctx, r.PathValue("fileId"))
	if err == nil && f.ChatID != chatID {
		sess, serr := h.Service.Store.Session(ctx, chatID)
		if serr != nil || f.ChatID != "" || sess.ClientKey != f.ClientKey {
			err = chat.ErrNotFound
		}
	}
	if err != nil {
		h.fileError(w, r, err)
		return
	}
	h.serveFile(w, r, f)
}

func (h *Handler) fileError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, chat.ErrNotFound) {
		err = chat.Errorf(chat.CodeFileNotFound, "file not found")
	}
	h.writeError(w, r, err)
}

// serveFile sends a stored file. The type was sniffed at upload; nosniff and
// a sandboxing CSP keep a browser from running anything a customer sent, and
// everything but pictures is offered as a download.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, f chat.File) {
	body, err := h.Blobs.Open(r.Context(), f.ID)
	if err != nil {
		h.fileError(w, r, err)
		return
	}
	defer body.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", f.ContentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hdr.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	if isImage(f.ContentType) {
		disposition = "inline"
	}
	hdr.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(w, r, "", f.Created, body)
}

func isImage(ctype string) bool {
	switch mediaType(ctype) {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// profilePhoto is Get Agent Profile Photo: the picture of a party that
// joined the chat, by chat id alone (browsers load it as <img src>).
func (h *Handler) profilePhoto(w http.ResponseWriter, r *http.Request) {
	f, err := h.Service.ProfilePhoto(r.Context(), r.PathValue("chatId"), r.PathValue("partyId"))
	if err != nil {
		h.fileError(w, r, err)
		return
	}
	h.serveFile(w, r, f)
}

// readRecorder remembers the error reading the client's upload failed
// with, so that a failed Put tells the client's fault from the storage's.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		rr.err = err
	}
	return n, err
}
