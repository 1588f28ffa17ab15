package configapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Errors the API answers: each carries a stable code and parameters beside
// its English text (the page words it from the code), and maps to its HTTP
// status here, once.

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// apiError is an answer other than success: its stable Code and Params,
// which the page words in the reader's language (web/static/i18n/<lang>.json holds
// a text for every code, "err.<code>"), and the English text. Fields name
// the fields at fault, as document paths (projects[0].slug) or settings
// names, each with its own code.
type apiError struct {
	Status int
	Code   string // stale, referenced, validation, store, invalid_document, not_found, …
	Params kv
	Msg    string
	Fields []*config.FieldError
	Extra  map[string]any
}

// kv is the parameters of a code.
type kv = map[string]any

func (e *apiError) Error() string { return e.Msg }

// fieldErr is a problem with one field, coded like config's.
func fieldErr(field, code string, params kv, format string, args ...any) *config.FieldError {
	return &config.FieldError{Field: field, Code: code, Params: params, Msg: fmt.Sprintf(format, args...)}
}

// badRequest is a 400 about field (or the whole body, for "").
func badRequest(field, code string, params kv, format string, args ...any) *apiError {
	e := &apiError{Status: http.StatusBadRequest, Code: code, Params: params, Msg: fmt.Sprintf(format, args...)}
	if field != "" {
		e.Fields = []*config.FieldError{{Field: field, Msg: e.Msg, Code: code, Params: params}}
	}
	return e
}

// notFound says that the what (organization, owner, robot, project,
// version) with id does not exist.
func notFound(what string, id any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Params: kv{"what": what, "id": id},
		Msg: fmt.Sprintf("%s %v does not exist", what, id)}
}

// errStale is the answer to a write based on an old version.
var errStale = &apiError{Status: http.StatusConflict, Code: "stale", Msg: "the configuration changed since you loaded it; reload"}

// validation turns field errors into a 422.
func validation(fes []*config.FieldError) *apiError {
	parts := make([]string, len(fes))
	for i, f := range fes {
		parts[i] = f.Error()
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "validation", Msg: strings.Join(parts, "; "), Fields: fes}
}

// storeError describes a failed store read or write in words.
func storeError(err error) *apiError {
	if fes := config.Fields(err); len(fes) > 0 {
		return &apiError{Status: http.StatusInternalServerError, Code: "invalid_document", Fields: fes,
			Msg: "the stored configuration is invalid (" + err.Error() + "); import a corrected document or restore a version from the history"}
	}
	if errors.Is(err, store.ErrConflict) {
		return errStale
	}
	return &apiError{Status: http.StatusServiceUnavailable, Code: "store", Msg: describeStoreError(err),
		Params: kv{"cause": storeErrorCode(err), "detail": notify.Redact(err.Error())}}
}

// errorBody is the JSON of an error answer.
func errorBody(ae *apiError) map[string]any {
	body := map[string]any{"error": ae.Msg}
	if ae.Code != "" {
		body["code"] = ae.Code
	}
	if len(ae.Params) > 0 {
		body["params"] = ae.Params
	}
	if len(ae.Fields) > 0 {
		body["field"] = ae.Fields[0].Field
		list := make([]map[string]any, len(ae.Fields))
		for i, f := range ae.Fields {
			fe := map[string]any{"field": f.Field, "message": f.Msg, "code": f.Code}
			if len(f.Params) > 0 {
				fe["params"] = f.Params
			}
			list[i] = fe
		}
		body["fields"] = list
	}
	for k, v := range ae.Extra {
		body[k] = v
	}
	return body
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if fes := config.Fields(err); len(fes) > 0 {
			ae = validation(fes)
		} else {
			ae = storeError(err)
		}
	}
	body := errorBody(ae)
	if ae.Status >= 500 {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "error", notify.Redact(ae.Msg))
	}
	writeJSON(w, ae.Status, body)
}
