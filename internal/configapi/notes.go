package configapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
)

// Change notes: how each written version of the document came to be (an
// edit of which entity, an import, a restore, …), so the history can say
// what each save did. A note is a small object
// <prefix>v1/changes/<time>_<hash>_<action>_<kind>_<id>_<extra>.json whose
// name says it all (one listing reads every note); hash identifies the
// document's stored bytes, which the history keeps as they were, so a kept
// version finds its note by its hash. Notes are words for people: a missing
// note leaves a history row without its action, nothing else.

// notesKeep is how many notes are kept: the history's versions and the
// current document, with room to spare.
const notesKeep = 2*docstore.HistoryKeep + 10

// saveNote says how a version came to be.
type saveNote struct {
	// Action is create, edit, delete, import, restore, original (imported
	// from the original sentry-white), token (webhook token regenerated)
	// or sentry (projects added from Sentry).
	Action string `json:"action"`
	Kind   string `json:"kind,omitempty"` // organizations, owners, robots or projects
	ID     int64  `json:"id,omitempty"`
	// Extra is the version restored, or how many projects were added.
	Extra string `json:"extra,omitempty"`
}

func notesDir(docs *docstore.Docs) string { return docs.Prefix + "v1/changes/" }

// docHash identifies a document's stored bytes.
func docHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// safePart keeps a note's name parts to letters, digits, '.' and '-'.
func safePart(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, s)
}

// note records how d, just saved, came to be. The bytes stored are
// config.Marshal(d), as docstore.Docs.Save writes them.
func (s *Server) note(ctx context.Context, docs *docstore.Docs, d *config.Document, n saveNote) {
	data, err := config.Marshal(d)
	if err != nil {
		return
	}
	id := ""
	if n.ID != 0 {
		id = strconv.FormatInt(n.ID, 10)
	}
	key := notesDir(docs) + strings.Join([]string{time.Now().UTC().Format("20060102T150405.000000Z"), docHash(data),
		safePart(n.Action), safePart(n.Kind), id, safePart(n.Extra)}, "_") + ".json"
	b, _ := json.Marshal(n)
	if _, err := docs.B.Put(ctx, key, b, nil); err != nil {
		s.log.Warn("change note not written", "error", err.Error())
		return
	}
	keys, err := docs.B.List(ctx, notesDir(docs))
	if err != nil || len(keys) <= notesKeep {
		return
	}
	sort.Strings(keys)
	for _, k := range keys[:len(keys)-notesKeep] {
		_ = docs.B.Delete(ctx, k)
	}
}

// noteEntry is a note read back: when it was written and the hash of the
// document it describes.
type noteEntry struct {
	time time.Time
	hash string
	saveNote
}

// notes reads the notes, oldest first, from their names.
func notes(ctx context.Context, docs *docstore.Docs) []noteEntry {
	var out []noteEntry
	keys, err := docs.B.List(ctx, notesDir(docs))
	if err != nil {
		return nil
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(k, notesDir(docs)), ".json"), "_")
		if len(parts) != 6 {
			continue
		}
		at, err := time.Parse("20060102T150405.000000Z", parts[0])
		if err != nil {
			continue
		}
		id, _ := strconv.ParseInt(parts[4], 10, 64)
		out = append(out, noteEntry{time: at, hash: parts[1], saveNote: saveNote{Action: parts[2], Kind: parts[3], ID: id, Extra: parts[5]}})
	}
	return out
}

// noteOf finds the note of the save that made the document hashed hash,
// written in [from, to): the save that replaced a kept version happened
// after the version went to the history and before the next one did. Two
// saves of the same bytes (a restore) are told apart by their times.
func noteOf(all []noteEntry, hash string, from, to time.Time) *saveNote {
	for i := range all {
		n := &all[i]
		if n.hash == hash && !n.time.Before(from) && (to.IsZero() || n.time.Before(to)) {
			return &n.saveNote
		}
	}
	return nil
}
