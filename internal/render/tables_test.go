package render

import (
	"testing"
	"unicode"
)

// The fast paths of isSpace and invisible agree with Unicode's tables for
// every code point (U+2065, unassigned inside the invisible operators,
// counts as invisible).
func TestCharacterClassesAgreeWithUnicode(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSpace(r) != unicode.IsSpace(r) {
			t.Fatalf("isSpace(%U) = %v", r, !unicode.IsSpace(r))
		}
		want := r < 0x20 || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r) || r == 0x2065 ||
			r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0 || r >= 0xfff9 && r <= 0xfffb
		if invisible(r) != want {
			t.Fatalf("invisible(%U) = %v", r, !want)
		}
	}
}
