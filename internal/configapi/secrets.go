package configapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
)

// secretField is a JSON member holding a secret. Partial masks show a few
// characters at each end so a person can tell two tokens apart; passwords
// are masked whole.
type secretField struct {
	Name    string
	Partial bool
}

// secretsOf lists the secret members of T: every field of type
// config.Secret, by its JSON name, masked in part except those named in
// whole (a password, an admin key). A secret added to a type is masked,
// guarded and revealed like the others without more code.
func secretsOf[T any](whole ...string) []secretField {
	var out []secretField
	t := reflect.TypeFor[T]()
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && f.Type == secretType {
			name := jsonName(f)
			out = append(out, secretField{Name: name, Partial: !slices.Contains(whole, name)})
		}
	}
	return out
}

var secretType = reflect.TypeFor[config.Secret]()

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

// holdsMask reports whether a value holds a mask rather than a secret: the
// ellipsis of a partial mask, or the full mask. No secret a chat tool,
// Sentry or Aliyun issues contains either.
func holdsMask(v string) bool {
	return strings.Contains(v, "…") || strings.Contains(v, fullMask)
}

// maskedErr refuses a mask sent as a secret's value.
func maskedErr(field string) *config.FieldError {
	return fieldErr(field, "secret_masked", nil,
		"holds a mask (… or %s), not the secret: leave the member out to keep the stored value, send null or \"\" to clear it, or send the whole new value", fullMask)
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

// revealed is v's secrets as they are stored, by name: the answer of the
// reveal endpoints, which a person asks for with 显示 / Show.
func revealed(v any, secrets []secretField) map[string]string {
	m := members(v)
	out := make(map[string]string, len(secrets))
	for _, f := range secrets {
		var s string
		_ = json.Unmarshal(m[f.Name], &s)
		out[f.Name] = s
	}
	return out
}

// secretValues collects every secret value in v (a document), found by
// type wherever it is.
func secretValues(v any) map[string]bool {
	out := map[string]bool{}
	walkSecrets(reflect.ValueOf(v), "", func(_, s string) { out[s] = true })
	return out
}

// maskedSecrets names the secrets of d that hold a mask and were not
// already among had (the values stored before): what a write must refuse,
// so that no mask ever reaches the store.
func maskedSecrets(had map[string]bool, d *config.Document) []*config.FieldError {
	var out []*config.FieldError
	walkSecrets(reflect.ValueOf(d), "", func(path, s string) {
		if holdsMask(s) && !had[s] {
			out = append(out, maskedErr(path))
		}
	})
	return out
}

// walkSecrets calls fn with the document path (robots[0].secret) and value
// of every non-empty config.Secret inside v.
func walkSecrets(v reflect.Value, path string, fn func(path, s string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkSecrets(v.Elem(), path, fn)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkSecrets(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			if !f.IsExported() || name == "-" {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			walkSecrets(v.Field(i), name, fn)
		}
	case reflect.String:
		if v.Type() == secretType && v.String() != "" {
			fn(path, v.String())
		}
	}
}

// mergeInto decodes into dst the stored value overlaid with a request body.
// With patch, every member the body omits keeps its stored value;
// otherwise (PUT) only secrets and members unknown to this version do. A
// secret sent back exactly as the API shows it (its mask) keeps its stored
// value too, so a script's read → write round trip changes nothing; any
// other value holding a mask is a 422 naming the secret, and null or ""
// clears it. A body member of the wrong type is a 400 naming it.
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
	var refused []*config.FieldError
	for k, v := range body {
		if f, ok := isSecret(k); ok {
			var sent, old string
			if json.Unmarshal(v, &sent) == nil {
				_ = json.Unmarshal(base[k], &old)
				switch {
				case old != "" && (sent == fullMask || sent == mask(old, f.Partial)):
					continue // sent back as it was shown: keep the stored value
				case holdsMask(sent):
					refused = append(refused, maskedErr(k))
					continue
				}
			}
		}
		out[k] = v
	}
	if len(refused) > 0 {
		slices.SortFunc(refused, func(a, b *config.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return validation(refused)
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
		if f := t.Field(i); f.IsExported() && jsonName(f) != "-" {
			keys[jsonName(f)] = true
		}
	}
	return keys
}

// jsonName is a struct field's JSON member name ("-" for none).
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "-"
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// tokenFromURL takes a robot's webhook URL, as the chat tool shows it, and
// returns the token in it and the robot kind the URL belongs to (each kind
// recognises its own, notify.Kind.ParseURL).
func (s *Server) tokenFromURL(in string) (token, kind string, ok bool) {
	in = strings.TrimSpace(in)
	if !strings.Contains(in, "://") {
		if !strings.Contains(in, "/") && !strings.Contains(in, "?") {
			return "", "", false
		}
		in = "https://" + in
	}
	u, err := url.Parse(in)
	if err != nil {
		return "", "", false
	}
	for _, k := range s.kinds.All() {
		if k.ParseURL == nil {
			continue
		}
		if t, ok := k.ParseURL(u); ok {
			return t, k.Name, true
		}
	}
	return "", "", false
}
