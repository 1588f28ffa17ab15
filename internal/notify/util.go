package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
)

// maxAnswer bounds what is read of a robot's answer.
const maxAnswer = 64 << 10

// Post sends body as JSON to u for robot r and returns the answer's status
// and (bounded) body. A transport failure is a retryable *Error with the
// URL and the secrets scrubbed from its text; a timeout is marked, since
// the robot may have taken the message.
func Post(ctx context.Context, c *http.Client, r *config.Robot, u string, body []byte, secrets ...string) (int, []byte, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return 0, nil, &Error{Robot: r.Name, Kind: r.Kind, Msg: Scrub(err.Error(), secrets...)}
	}
	return PostURL(ctx, c, r, pu, body, secrets...)
}

// PostURL is Post to a parsed URL (a sender that keeps its base URL parsed
// saves parsing it for every message).
func PostURL(ctx context.Context, c *http.Client, r *config.Robot, u *url.URL, body []byte, secrets ...string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", bytes.NewReader(body))
	if err != nil {
		return 0, nil, &Error{Robot: r.Name, Kind: r.Kind, Msg: Scrub(err.Error(), secrets...)}
	}
	req.URL, req.Host = u, strings.TrimSuffix(u.Host, ":")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the token and the signature
		}
		return 0, nil, &Error{Robot: r.Name, Kind: r.Kind, Msg: Scrub(err.Error(), secrets...), Retry: true, Timeout: IsTimeout(err)}
	}
	defer resp.Body.Close()
	raw := readAnswer(resp.Body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // let the connection be reused
	return resp.StatusCode, raw, nil
}

// readAnswer reads at most maxAnswer bytes of a robot's answer: a few
// dozen bytes, read into a buffer of that size rather than io.ReadAll's
// 512.
func readAnswer(r io.Reader) []byte {
	buf := make([]byte, 0, 64)
	for len(buf) < maxAnswer {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), maxAnswer)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	return buf
}

// Scrub removes query secrets (Redact) and the given secret values, in
// every form a URL may carry them, from s.
func Scrub(s string, secrets ...string) string {
	s = Redact(s)
	for _, v := range secrets {
		if len(v) < 4 {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			s = strings.ReplaceAll(s, form, "REDACTED")
		}
	}
	return s
}

// EncodeJSON encodes v without HTML escaping (robots show "<" as it is) and
// without the encoder's trailing newline.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// urlEscaper makes a link safe inside markdown's (…): it cannot close the
// parenthesis or open a tag.
var urlEscaper = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

// EscapeURL makes a link safe inside a markdown link's parentheses.
func EscapeURL(u string) string { return urlEscaper.Replace(u) }

// CutBytes returns s cut to at most n bytes on a rune boundary.
func CutBytes(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CutRunes cuts s to at most n runes, marking a cut with an ellipsis.
func CutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

// Fit returns build(m), made to fit limit bytes: when the body is larger,
// the message is shortened step by step until it fits — the details (field
// values, the note, digest lines) first, then the heading, then the link,
// and at last the mentions beyond what fits. A link longer than a quarter
// of the limit loses its query first, since it still opens the issue. The title, the keyword and the robot's format stay. So an alert is
// never refused for its size; only a limit too small for an empty message
// fails.
func Fit(limit int, m *Message, build func(*Message) ([]byte, error)) ([]byte, error) {
	out, err := build(m)
	if err != nil || len(out) <= limit {
		return out, err
	}
	c := m.clone()
	if len(c.Link) > limit/4 && c.shrinkLinkQuery() {
		// A link this long is mostly query: without it, it still opens
		// the issue.
		if out, err = build(c); err != nil || len(out) <= limit {
			return out, err
		}
	}
	if ratio := float64(limit) / float64(len(out)); ratio < 0.8 {
		// Far over: cut every detail in proportion first, rather than one
		// at a time (each try is a whole render).
		c.scaleDetails(ratio)
		if out, err = build(c); err != nil || len(out) <= limit {
			return out, err
		}
	}
	steps := []func(*Message) bool{
		func(c *Message) bool { return c.shrinkDetails() },
		func(c *Message) bool { return c.shrinkHeading() },
		func(c *Message) bool { return c.shrinkLink() },
		func(c *Message) bool { return c.shrinkMentions() },
	}
	for _, step := range steps {
		for step(c) {
			if out, err = build(c); err != nil || len(out) <= limit {
				return out, err
			}
		}
	}
	return nil, fmt.Errorf("the message does not fit %d bytes even with nothing but its title", limit)
}

func (m *Message) clone() *Message {
	c := *m
	c.Fields = append([]Field(nil), m.Fields...)
	c.Digest = append([]DigestItem(nil), m.Digest...)
	c.Mentions = append([]Mention(nil), m.Mentions...)
	return &c
}

// shrinkDetails halves the longest detail, or drops the last one when all
// are short; it reports false when nothing is left to take. The note (the
// shared Sentry login) is never cut, only dropped whole after the fields:
// a cut password would be a wrong one.
func (m *Message) shrinkDetails() bool {
	longest, at := 0, -1
	for i, f := range m.Fields {
		if n := len(f.Value) + len(f.Link); n > longest {
			longest, at = n, i
		}
	}
	for i, it := range m.Digest {
		if n := len(it.Title) + len(it.Link) + len(it.Project); n > longest {
			longest, at = n, len(m.Fields)+1+i
		}
	}
	switch {
	case at < 0 && m.Note == "":
		return false
	case at >= 0 && longest > 48:
		switch {
		case at < len(m.Fields):
			f := &m.Fields[at]
			f.Link = ""
			f.Value = CutRunes(f.Value, utf8.RuneCountInString(f.Value)/2)
		default:
			it := &m.Digest[at-len(m.Fields)-1]
			if len(it.Link) > len(it.Title) {
				it.Link = ""
			} else {
				it.Title = CutRunes(it.Title, utf8.RuneCountInString(it.Title)/2)
				it.Project = CutRunes(it.Project, 24)
			}
		}
	case len(m.Digest) > 1:
		m.Digest = m.Digest[:len(m.Digest)-1]
	case len(m.Fields) > 0:
		m.Fields = m.Fields[:len(m.Fields)-1]
	case m.Note != "":
		m.Note = ""
	case len(m.Digest) == 1 && m.Digest[0].Link != "":
		m.Digest[0].Link = ""
	case len(m.Digest) == 1 && utf8.RuneCountInString(m.Digest[0].Title) > 24:
		m.Digest[0].Title = CutRunes(m.Digest[0].Title, 24)
	default:
		return false
	}
	return true
}

// scaleDetails cuts each detail but the note to ratio of its length (at
// least 24 runes).
func (m *Message) scaleDetails(ratio float64) {
	scale := func(s string) string {
		n := utf8.RuneCountInString(s)
		return CutRunes(s, max(24, int(float64(n)*ratio)))
	}
	for i := range m.Fields {
		m.Fields[i].Value = scale(m.Fields[i].Value)
	}
	for i := range m.Digest {
		m.Digest[i].Title = scale(m.Digest[i].Title)
		if len(m.Digest[i].Link) > 1024 {
			m.Digest[i].Link = ""
		}
	}
}

func (m *Message) shrinkHeading() bool {
	n := utf8.RuneCountInString(m.Heading)
	if n <= 24 {
		return false
	}
	m.Heading = CutRunes(m.Heading, n/2)
	return true
}

func (m *Message) shrinkLink() bool {
	if m.Link == "" {
		return false
	}
	if !m.shrinkLinkQuery() {
		m.Link = ""
	}
	return true
}

// shrinkLinkQuery drops the link's query and fragment, if it has any.
func (m *Message) shrinkLinkQuery() bool {
	if i := strings.IndexAny(m.Link, "?#"); i > 0 {
		m.Link = m.Link[:i]
		return true
	}
	return false
}

func (m *Message) shrinkMentions() bool {
	if len(m.Mentions) == 0 {
		return false
	}
	m.Mentions = m.Mentions[:len(m.Mentions)/2]
	return true
}

// CodeSpan returns s as a markdown inline code span, which shows it exactly
// as it is: fenced with more backticks than s holds in a row (CommonMark),
// padded with a space when s starts or ends with a backtick.
func CodeSpan(s string) string {
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
