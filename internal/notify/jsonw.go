package notify

import "unicode/utf8"

// The robot request bodies are written straight into a byte slice with
// these, not through encoding/json's reflection: the same bytes as
// EncodeJSON (no HTML escaping), without an intermediate value.

// AppendJSONString appends s as a JSON string literal, escaped as
// encoding/json escapes it with HTML escaping off.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONText(dst, s, false)
	return append(dst, '"')
}

// AppendJSONStringHTML is AppendJSONString with HTML escaping (<, >, &
// as \u003c, \u003e, \u0026), as json.Marshal writes strings.
func AppendJSONStringHTML(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONText(dst, s, true)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// AppendJSONText appends s escaped for the inside of a JSON string
// literal (without the quotes): several calls make one string of their
// concatenation.
func AppendJSONText(dst []byte, s string) []byte { return appendJSONText(dst, s, false) }

func appendJSONText(dst []byte, s string, html bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!html || b != '<' && b != '>' && b != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // control characters, and <, >, & when html
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			// Valid JSON, but not JavaScript: encoding/json escapes them.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}
