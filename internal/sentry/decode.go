package sentry

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

//go:generate go run ./internal/gen

// The fast decoder. Every webhook body goes through it first: one pass
// over the bytes that checks the JSON syntax as encoding/json does and
// fills the same structs (whole) with the members the message and the
// routing read, skipping the rest (stack traces, breadcrumbs, contexts…)
// without building anything. It fills them exactly as json.Unmarshal
// would — the flexible types keep their rules, a member of an unexpected
// type is skipped, a pointer member given a non-object is allocated empty,
// null clears it — for every body Sentry sends. A body it is not sure of
// (invalid JSON, nesting deeper than MaxDepth, a member given twice, a
// member name that matches one of ours only through case folding or an
// escape) makes it give up, and parseBody decodes that body with
// encoding/json instead, as it always did: the results and errors of odd
// bodies are unchanged. The tests in decode_test.go and the fuzz tests
// check that both decoders agree wherever the fast one answers.
//
// This file holds the scanner and the readers of the leaf types (flex,
// when, list, tags); decode_gen.go, generated from the struct types by
// internal/gen, holds one reader per struct. A member added to a struct
// in types.go is read after go generate.

// fastDecode fills w from body (a JSON object, trimmed) as json.Unmarshal
// would; data reports whether the body has a "data" member. ok is false
// when the fast decoder gives up.
func fastDecode(body []byte, w *whole) (data, ok bool) {
	s := &scan{b: body}
	set := readWhole(s, w)
	s.ws()
	if s.i != len(s.b) {
		s.fail() // data after the object
	}
	return set&hasData != 0, !s.bad
}

// pointer reads a value into a pointer as encoding/json does: null clears
// it; any other value allocates it if needed and is read into it (a
// struct's reader skips a value that is not an object).
func pointer[T any](s *scan, p **T, read func(*scan, *T)) {
	if s.peek() == 'n' {
		s.literal("null")
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	read(s, *p)
}

// slice reads a value into a slice as encoding/json does: null clears it,
// a value that is not an array leaves it, and each element is read into
// the slice's element at its index, reused if the slice's capacity has one
// (a value a struct's reader skips leaves the element as it was), the
// slice cut to the array's length; an empty array gives an empty slice.
func slice[T any](s *scan, p *[]T, read func(*scan, *T)) {
	switch s.peek() {
	case 'n':
		s.literal("null")
		*p = nil
		return
	case '[':
	default:
		s.skip()
		return
	}
	out := (*p)[:0]
	for n := 0; s.element(&n); {
		if len(out) < cap(out) {
			out = out[:len(out)+1]
		} else {
			var zero T
			out = append(out, zero)
		}
		read(s, &out[len(out)-1])
	}
	if len(out) == 0 {
		out = []T{}
	}
	*p = out
}

// scan is the decoder's position in the body.
type scan struct {
	b     []byte
	i     int
	depth int
	bad   bool // give up: the caller decodes with encoding/json
}

// maxName is the longest member name of ours (internal/gen refuses a
// longer one).
const maxName = 64

// fail gives up and makes every further step a no-op.
func (s *scan) fail() {
	s.bad = true
	s.i = len(s.b)
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the first byte of the next value, or 0 at the end.
func (s *scan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		s.fail()
		return 0
	}
	return s.b[s.i]
}

// strSpecial marks the bytes a JSON string cannot hold as they are.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// hasSpecial reports whether a byte of w (eight bytes of a string) is a
// control character, a quote or a backslash: the bit tricks of "Bit
// Twiddling Hacks" (a byte less than n; a zero byte after xor), exact as
// a yes or no.
func hasSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	ctl := (w - 0x20*ones) &^ w & highs
	q := w ^ ('"' * ones)
	bs := w ^ ('\\' * ones)
	return ctl|(q-ones)&^q&highs|(bs-ones)&^bs&highs != 0
}

// str reads the string at s.i (its opening quote) and returns the bytes
// between the quotes and whether they hold escapes.
func (s *scan) str() (raw []byte, esc bool) {
	b := s.b
	j := s.i + 1
	for j < len(b) {
		// Eight bytes at a time while none is special.
		for j+8 <= len(b) && !hasSpecial(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		if j >= len(b) {
			break
		}
		c := b[j]
		if !strSpecial[c] {
			j++
			continue
		}
		switch {
		case c == '"':
			raw = b[s.i+1 : j]
			s.i = j + 1
			return raw, esc
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				s.fail()
				return nil, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					s.fail()
					return nil, false
				}
				j += 6
			default:
				s.fail()
				return nil, false
			}
		default: // a control character
			s.fail()
			return nil, false
		}
	}
	s.fail()
	return nil, false
}

// unescape returns the text of a string literal's bytes between the quotes,
// checked by str, as encoding/json unquotes it: a \u escape of half a
// surrogate pair becomes U+FFFD.
func unescape(raw []byte) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch e := raw[i+1]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := u4(raw[i:])
			i += 6
			if utf16.IsSurrogate(r) {
				if d := utf16.DecodeRune(r, u4(raw[i:])); d != unicode.ReplacementChar {
					b = utf8.AppendRune(b, d)
					i += 6
					continue
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // '"', '\\', '/'
			b = append(b, e)
		}
		i += 2
	}
	return string(b)
}

// u4 decodes the \uXXXX at the start of b, or returns -1.
func u4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads the number at s.i.
func (s *scan) number() {
	b, j := s.b, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		s.fail()
		return
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			s.fail()
			return
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			s.fail()
			return
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	s.i = j
}

func (s *scan) literal(word string) {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		s.fail()
		return
	}
	s.i += len(word)
}

// scalar reads a string, number, true, false or null at s.i (c is its
// first byte).
func (s *scan) scalar(c byte) {
	switch c {
	case '"':
		s.str()
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.number()
	}
}

// skip reads (and checks) any value.
func (s *scan) skip() {
	switch c := s.peek(); c {
	case '{':
		for n := 0; s.member(&n); {
			s.str() // any name, escaped or not
			s.colon()
			s.skip()
		}
	case '[':
		for n := 0; s.element(&n); {
			s.skip()
		}
	default:
		s.scalar(c)
	}
}

// span skips a value and returns its bytes.
func (s *scan) span() []byte {
	s.ws()
	start := s.i
	s.skip()
	if s.bad {
		return nil
	}
	return s.b[start:s.i]
}

// enter opens an object or array (c), within MaxDepth.
func (s *scan) enter() {
	s.i++
	if s.depth++; s.depth > MaxDepth {
		s.fail()
	}
}

// member moves to the next member of the object at s.i (n counts the
// members read so far; 0 before the opening brace) and reads its name into
// s's key; it returns false at the end of the object.
func (s *scan) member(n *int) bool {
	if *n == 0 {
		if s.peek() != '{' {
			s.fail()
			return false
		}
		s.enter()
		if s.peek() == '}' {
			s.i++
			s.depth--
			return false
		}
	} else {
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return false
		default:
			s.fail()
			return false
		}
	}
	if s.bad || s.peek() != '"' {
		s.fail()
		return false
	}
	*n++
	return true
}

// key reads the member name at s.i and its colon. A name with escapes
// gives up (encoding/json unescapes it before matching).
func (s *scan) key() []byte {
	k, esc := s.str()
	if esc {
		s.fail()
	}
	s.colon()
	return k
}

func (s *scan) colon() {
	if s.peek() != ':' {
		s.fail()
		return
	}
	s.i++
}

// element moves to the next element of the array at s.i; it returns false
// at the end of the array.
func (s *scan) element(n *int) bool {
	if *n == 0 {
		if s.peek() != '[' {
			s.fail()
			return false
		}
		s.enter()
		if s.peek() == ']' {
			s.i++
			s.depth--
			return false
		}
	} else {
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return false
		default:
			s.fail()
			return false
		}
	}
	*n++
	return !s.bad
}

// isObject reports whether the next value is an object; any other value
// is skipped (encoding/json leaves a struct alone then).
func (s *scan) isObject() bool {
	if s.peek() == '{' {
		return true
	}
	s.skip()
	return false
}

// other skips the value of a member the struct has no field for, after
// checking its name does not match one of names (the struct's JSON names,
// lower case) as encoding/json would match it: without regard to case.
func (s *scan) other(k []byte, names map[string]bool) {
	var buf [maxName]byte
	if len(k) > len(buf) {
		s.skip() // longer than any name of ours
		return
	}
	low := buf[:len(k)]
	for i, c := range k {
		switch {
		case c >= 0x80:
			s.fail() // a non-ASCII name could fold to ours (ſ, K)
			return
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		low[i] = c
	}
	if names[string(low)] {
		s.fail() // ours, in other case: encoding/json would take it
		return
	}
	s.skip()
}

// seen marks member bit of a struct read; a member given twice gives up.
func (s *scan) seen(set *uint64, bit uint) {
	if *set&(1<<bit) != 0 {
		s.fail()
	}
	*set |= 1 << bit
}

// flex reads a value into a flexString: a string's text, a number or
// boolean as written, "" for null, an object or an array.
func (s *scan) flex(f *flexString) {
	switch c := s.peek(); c {
	case '"':
		raw, esc := s.str()
		switch {
		case s.bad:
		case !esc:
			*f = flexString(raw)
		default:
			*f = flexString(unescape(raw))
		}
	case '{', '[':
		s.skip()
		*f = ""
	case 'n':
		s.literal("null")
		*f = ""
	default:
		start := s.i
		s.scalar(c)
		if !s.bad {
			*f = flexString(s.b[start:s.i])
		}
	}
}

// when reads a value into a flexTime, by its own rules.
func (s *scan) when(t *flexTime) {
	if b := s.span(); !s.bad {
		_ = t.UnmarshalJSON(b)
	}
}

// list reads a value into flexStrings: a list of strings or one.
func (s *scan) list(fs *flexStrings) {
	switch s.peek() {
	case '[':
		*fs = nil
		for n := 0; s.element(&n); {
			var v flexString
			s.flex(&v)
			if t := strings.TrimSpace(string(v)); t != "" {
				*fs = append(*fs, t)
			}
		}
	default:
		if b := s.span(); !s.bad {
			_ = fs.UnmarshalJSON(b)
		}
	}
}

// neededTags are the tags the parser reads (tagList.get); the fast decoder
// keeps only those.
var neededTags = map[string]bool{"level": true, "environment": true, "sentry:release": true, "release": true,
	"handled": true, "sentry:user": true, "user": true}

// tags reads a value into a tagList. The usual list of [key, value] pairs
// is read here, keeping the pairs of the tags the parser reads, in order
// (the first of a key wins); any other form goes to tagList's own rules.
func (s *scan) tags(tl *tagList) {
	s.ws()
	start := s.i
	if s.peek() != '[' {
		if b := s.span(); !s.bad {
			_ = tl.UnmarshalJSON(b)
		}
		return
	}
	*tl = nil
	for n := 0; s.element(&n); {
		switch s.peek() {
		case '[':
		case 'n':
			s.literal("null") // no pair
			continue
		default:
			// An object or a scalar among the pairs: tagList's rules.
			s.i, s.depth = start, s.depth-1
			if b := s.span(); !s.bad {
				_ = tl.UnmarshalJSON(b)
			}
			return
		}
		var k, v flexString
		m, other := 0, false
		for s.element(&m) {
			switch {
			case m == 1 && s.peek() == '"':
				// The key: no string made for a tag not read.
				raw, esc := s.str()
				switch {
				case s.bad:
				case esc:
					k = flexString(unescape(raw))
				case neededTags[string(raw)]:
					k = flexString(raw)
				default:
					other = true
				}
			case m == 1:
				s.flex(&k)
			case m == 2 && !other:
				s.flex(&v)
			default:
				s.skip()
			}
		}
		if m >= 2 && !other && neededTags[string(k)] {
			*tl = append(*tl, [2]string{string(k), string(v)})
		}
	}
}
