package configapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/original"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Moving in from the original sentry-white: its objects under
// <prefix>v1/ (originals, projects, robots, responsible_people) become the
// configuration document in one write; the old objects stay as they are,
// so the original keeps running until Sentry gets the new URL.

// OriginalImport is the outcome of ImportOriginal.
type OriginalImport struct {
	Report *original.Report `json:"report"`
	// Written is true when the document was written; false when the store
	// already held exactly this configuration (Identical).
	Written   bool           `json:"written"`
	Identical bool           `json:"identical"`
	Replaced  bool           `json:"replaced"` // a document with entries was replaced (it is kept in the history)
	Counts    map[string]int `json:"counts"`
	Webhook   map[string]any `json:"webhook"`
	// Risky says in English what the import clears or replaces (a robot's
	// signing secret the original does not have…), for the command line;
	// the page has them as dangers of the preview.
	Risky []string `json:"-"`
}

// ImportOriginalOptions tune ImportOriginal.
type ImportOriginalOptions struct {
	// Replace allows replacing a stored document that has entries; without
	// it such a document is left alone (409 document_exists).
	Replace bool
	// IfMatch, when set, is the ETag of the document the caller saw (""
	// for none): the write is refused if it changed since (409 stale).
	IfMatch *string
	// Digest, when set, is the digest of the preview the caller confirmed:
	// the write is refused if the original's data now converts to
	// something else (409 original_changed).
	Digest string
	// DryRun converts and compares without writing.
	DryRun bool
}

// digest identifies a converted document apart from its webhook token.
func digest(d *config.Document) string {
	c := *d
	c.WebhookToken = ""
	b, _ := config.Marshal(&c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

func noOriginal(err error) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "no_original", Msg: err.Error()}
}

// convertOriginal reads the original layout of the store being edited and
// converts it, keeping the current document's webhook token.
func (s *Server) convertOriginal(ctx context.Context) (d, cur *config.Document, tag string, rep *original.Report, err error) {
	docs, err := s.docs()
	if err != nil {
		return nil, nil, "", nil, err
	}
	cur, _, tag, err = s.current(ctx)
	if err != nil {
		return nil, nil, "", nil, err
	}
	d, rep, err = original.Import(ctx, docs.B, docs.Prefix, original.Options{WebhookToken: cur.WebhookToken.Reveal(), Kinds: s.docKinds})
	switch {
	case errors.Is(err, original.ErrNotFound):
		return nil, nil, "", nil, noOriginal(err)
	case err != nil && rep == nil:
		return nil, nil, "", nil, storeError(err)
	case err != nil:
		return nil, nil, "", nil, &apiError{Status: http.StatusInternalServerError, Code: "convert", Params: kv{"detail": err.Error()}, Msg: err.Error()}
	}
	return d, cur, tag, rep, nil
}

func hasEntries(d *config.Document) bool {
	return len(d.Organizations)+len(d.Owners)+len(d.Robots)+len(d.Projects) > 0
}

// ImportOriginal converts the original sentry-white's data in the store
// being edited into the configuration document and writes it (the command
// sentry-white import-original and the page's 从旧版导入 both use it).
func (s *Server) ImportOriginal(ctx context.Context, o ImportOriginalOptions) (*OriginalImport, error) {
	docs, err := s.docs()
	if err != nil {
		return nil, err
	}
	d, cur, tag, rep, err := s.convertOriginal(ctx)
	if err != nil {
		return nil, err
	}
	if o.IfMatch != nil && !sameETag(*o.IfMatch, tag) {
		return nil, errStale
	}
	if o.Digest != "" && o.Digest != digest(d) {
		return nil, &apiError{Status: http.StatusConflict, Code: "original_changed",
			Msg: "the original sentry-white's data changed since the preview; look at the changes again"}
	}
	res := &OriginalImport{Report: rep, Counts: counts(d)}
	if tag != "" && len(diff(cur, d)) == 0 {
		res.Identical = true
		res.Webhook = s.webhookInfo(cur)
		return res, nil
	}
	if tag != "" && hasEntries(cur) {
		if !o.Replace {
			return nil, &apiError{Status: http.StatusConflict, Code: "document_exists", Params: kv{"key": store.ConfigKey(docs.Prefix)}, Extra: map[string]any{"counts": counts(cur)},
				Msg: "the store already holds a configuration document with entries (" + store.ConfigKey(docs.Prefix) + "); it was left as it is: replace it on purpose (sentry-white import-original -replace, or confirm the import on the page); the replaced version is kept in the history"}
		}
		res.Replaced = true
	}
	for _, dg := range dangers(cur, d, diff(cur, d)) {
		res.Risky = append(res.Risky, dg.Msg)
	}
	if o.DryRun {
		res.Webhook = s.webhookInfo(d)
		return res, nil
	}
	if err := noNewMasks(cur, d); err != nil {
		return nil, err
	}
	keepToken(d, cur)
	if _, err := docs.Save(ctx, d, tag); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, errStale
		}
		return nil, storeError(err)
	}
	s.note(ctx, docs, d, saveNote{Action: "original"})
	res.Written = true
	res.Webhook = s.webhookInfo(d)
	return res, nil
}

// getOriginal says whether the store holds the original layout. With
// ?detect=1 it reads only the lists; otherwise it converts them and
// answers what importing would change, with the report.
func (s *Server) getOriginal(w http.ResponseWriter, r *http.Request) {
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc, _ := s.StoreLocation()
	if r.URL.Query().Get("detect") != "" {
		snap, err := original.Read(r.Context(), docs.B, docs.Prefix, original.ReadOptions{ListsOnly: true})
		switch {
		case errors.Is(err, original.ErrNotFound):
			writeJSON(w, http.StatusOK, map[string]any{"detected": false, "store": loc})
		case err != nil:
			s.fail(w, r, storeError(err))
		default:
			writeJSON(w, http.StatusOK, map[string]any{"detected": true, "store": loc, "lists": snap.Info})
		}
		return
	}
	d, cur, tag, rep, err := s.convertOriginal(r.Context())
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "no_original" {
		writeJSON(w, http.StatusOK, map[string]any{"detected": false, "store": loc, "message": ae.Msg})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes := diff(cur, d)
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, map[string]any{
		"detected": true, "store": loc, "report": rep, "counts": counts(d), "changes": changes,
		"identical": tag != "" && len(changes) == 0, "document_exists": tag != "", "document_counts": counts(cur),
		"etag": outETag(tag), "digest": digest(d), "dangers": dangers(cur, d, changes),
	})
}

// importOriginal writes the conversion the page showed: body {"digest"},
// If-Match the ETag of the preview. The page confirms a replacement, so a
// document with entries is replaced (and kept in the history).
func (s *Server) importOriginal(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := ImportOriginalOptions{Replace: true}
	if raw, ok := body["digest"]; ok {
		_ = json.Unmarshal(raw, &o.Digest)
	}
	if tag, pinned := ifMatch(r); pinned {
		o.IfMatch = &tag
	}
	res, err := s.ImportOriginal(r.Context(), o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, _, tag, err := s.current(r.Context()); err == nil {
		w.Header().Set("ETag", outETag(tag))
	}
	writeJSON(w, http.StatusOK, res)
}
