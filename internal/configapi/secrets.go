package configapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"

	"github.com/sentry-white/sentry-white/internal/notifiers"
)

// secretField is a JSON member holding a secret. Partial masks show a few
// characters at each end so a person can tell two tokens apart; passwords
// are masked whole.
type secretField struct {
	Name    string
	Partial bool
}

// fullMask is what a secret that shows nothing looks like.
const fullMask = "******"

// mask hides a secret for display: "SEC4f…21d" or "******".
func mask(v string, partial bool) string {
	if v == "" {
		return ""
	}
	r := []rune(v)
	if !partial || len(r) < 12 {
		return fullMask
	}
	n := 4
	if strings.HasPrefix(v, "SEC") {
		n = 5
	}
	return string(r[:n]) + "…" + string(r[len(r)-3:])
}

// maskedMap encodes v with its secrets masked, for an answer.
func maskedMap(v any, secrets []secretField) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return map[string]any{}
	}
	for _, f := range secrets {
		if s, ok := m[f.Name].(string); ok {
			m[f.Name] = mask(s, f.Partial)
		}
	}
	return m
}

// mergeInto decodes into dst the stored value overlaid with a request body.
// With patch, every member the body omits keeps its stored value;
// otherwise (PUT) only secrets and members unknown to this version do. A
// secret sent back masked keeps its stored value too. A body member of the
// wrong type is a 400 naming it.
func mergeInto[T any](dst, stored *T, body map[string]json.RawMessage, patch bool, secrets []secretField) error {
	base := map[string]json.RawMessage{}
	if stored != nil {
		b, err := json.Marshal(stored)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &base); err != nil {
			return err
		}
	}
	known := jsonKeys(reflect.TypeFor[T]())
	isSecret := func(k string) (secretField, bool) {
		for _, f := range secrets {
			if f.Name == k {
				return f, true
			}
		}
		return secretField{}, false
	}
	out := map[string]json.RawMessage{}
	for k, v := range base {
		if _, secret := isSecret(k); patch || secret || !known[k] {
			out[k] = v
		}
	}
	for k, v := range body {
		if f, ok := isSecret(k); ok {
			var sent, old string
			if json.Unmarshal(v, &sent) == nil {
				_ = json.Unmarshal(base[k], &old)
				if sent == fullMask || (old != "" && sent == mask(old, f.Partial)) {
					continue // sent back masked: keep the stored value
				}
			}
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	var zero T
	*dst = zero
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest(te.Field, "json_type", kv{"got": te.Value, "want": te.Type.String()}, "%s: got a JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return badRequest("", "body_shape", kv{"detail": jsonError(err)}, "the body does not fit: %s", jsonError(err))
	}
	return nil
}

// jsonKeys lists the JSON member names of a struct type's fields.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	return keys
}

// tokenFromURL takes a robot's webhook URL, as the chat tool shows it, and
// returns the token in it and the robot kind the URL belongs to (each kind
// recognises its own, notify.Kind.ParseURL).
func tokenFromURL(s string) (token, kind string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		if !strings.Contains(s, "/") && !strings.Contains(s, "?") {
			return "", "", false
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", false
	}
	for _, k := range notifiers.All() {
		if k.ParseURL == nil {
			continue
		}
		if t, ok := k.ParseURL(u); ok {
			return t, k.Name, true
		}
	}
	return "", "", false
}
