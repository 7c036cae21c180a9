package agentapi

import (
	"bytes"
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"io"
	"mime/multipart"
	"net/http"
	"path"

	"github.com/parley-chat/parley/chat"
)

// agentFileLimit bounds what agents upload (files for customers, photos).
const agentFileLimit = 25 << 20

// agentKey is the owner recorded for files an agent uploads.
func agentKey(a *chat.Agent) chat.ClientKey {
	return chat.ClientKey{Tenant: a.Tenant, ClientID: "agent:" + a.ID}
}

// upload stores a file an agent will send in a chat.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := h.storeUpload(w, r, &s.agent, func(string) bool { return true })
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]string{"file_id": f.ID, "file_name": f.Name})
	return nil
}

// setPhoto stores the agent's profile picture, shown to customers.
func (h *Handler) setPhoto(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := h.storeUpload(w, r, &s.agent, func(ct string) bool {
		switch ct {
		case "image/png", "image/jpeg", "image/gif", "image/webp":
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	a := s.agent
	a.PhotoID = f.ID
	if err := h.Service.Store.PutAgent(r.Context(), a); err != nil {
		return err
	}
	if err := h.Router.UpdateAgent(r.Context(), a); err != nil {
		// The photo is stored; routing shows it from the agent's next
		// login, or its next restore.
		h.Log.Warn("refresh the agent's profile in routing", "agent_id", a.ID, "err", err)
	}
	jsonapi.WriteJSON(w, map[string]any{"agent": a})
	return nil
}

func (h *Handler) storeUpload(w http.ResponseWriter, r *http.Request, a *chat.Agent, allow func(string) bool) (chat.File, error) {
	r.Body = http.MaxBytesReader(w, r.Body, agentFileLimit+64<<10)
	part, err := firstFile(r)
	if err != nil {
		return chat.File{}, err
	}
	defer part.Close()
	src := &uploadReader{r: part}
	head := make([]byte, 512)
	n, _ := io.ReadFull(src, head)
	if src.err != nil {
		return chat.File{}, src.refusal()
	}
	if n == 0 {
		return chat.File{}, chat.Errorf(chat.CodeFileRefused, "the file is empty")
	}
	head = head[:n]
	ctype := http.DetectContentType(head)
	if !allow(ctype) {
		return chat.File{}, chat.Errorf(chat.CodeFileRefused, "files of this type are not accepted here")
	}
	name := path.Base(part.FileName())
	f := chat.File{ID: chat.NewID(), ClientKey: agentKey(a), Name: name, ContentType: ctype, Created: h.Service.Now()}
	body := io.MultiReader(bytes.NewReader(head), src)
	if f.Size, err = h.Blobs.Put(r.Context(), f.ID, body, agentFileLimit); err != nil {
		if src.err != nil {
			return chat.File{}, src.refusal()
		}
		if errors.Is(err, chat.ErrTooLarge) {
			return chat.File{}, chat.Errorf(chat.CodeTooLarge, "the file exceeds %d bytes", agentFileLimit)
		}
		return chat.File{}, err
	}
	if err := h.Service.Store.PutFile(r.Context(), f); err != nil {
		h.Blobs.Delete(r.Context(), f.ID)
		return chat.File{}, err
	}
	return f, nil
}

// uploadReader remembers why reading an upload failed, so that a request
// cut short or over the limit is told apart from a failing disk.
type uploadReader struct {
	r   io.Reader
	err error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		u.err = err
	}
	return n, err
}

// refusal is the client's error for a failed read of the upload.
func (u *uploadReader) refusal() error {
	var tooLarge *http.MaxBytesError
	if errors.As(u.err, &tooLarge) {
		return chat.Errorf(chat.CodeTooLarge, "the file exceeds %d bytes", agentFileLimit)
	}
	return chat.Errorf(chat.CodeFileRefused, "the upload was cut short or unreadable")
}

func firstFile(r *http.Request) (*multipart.Part, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, chat.Errorf(chat.CodeInvalid, "want a multipart/form-data body")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, chat.Errorf(chat.CodeInvalid, "no file in the upload")
		}
		if part.FileName() != "" {
			return part, nil
		}
		part.Close()
	}
}

// download serves a file of the agent's tenant (customer uploads included).
func (h *Handler) download(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := h.Service.Store.File(r.Context(), r.PathValue("fileId"))
	if errors.Is(err, chat.ErrNotFound) || (err == nil && f.Tenant != s.agent.Tenant) {
		return chat.Errorf(chat.CodeFileNotFound, "file not found")
	}
	if err != nil {
		return err
	}
	body, err := h.Blobs.Open(r.Context(), f.ID)
	if err != nil {
		return chat.Errorf(chat.CodeFileNotFound, "file not found")
	}
	defer body.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", f.Created, body)
	return nil
}
