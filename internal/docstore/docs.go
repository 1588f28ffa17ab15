// Package docstore is the document layer over a store.Backend: Docs reads
// and writes sentry-white's configuration document with compare-and-swap and
// keeps its previous versions; Cache holds the relay's last good document and
// revalidates it at most once per window. The key-value backends themselves
// (a folder, an OSS bucket, a relay's admin API) live in package store.
package docstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/store"
)

// HistoryKeep is how many previous documents a Docs keeps.
const HistoryKeep = 20

// Docs reads and writes the configuration document in a store.Backend and keeps
// the previous versions under <prefix>v1/history/.
type Docs struct {
	B      store.Backend
	Prefix string
	// Kinds are the robot kinds the document's robots may be of (the
	// registry's, notifiers.Registry.Document).
	Kinds config.Kinds
	Keep  int              // previous versions kept; 0 means HistoryKeep
	Now   func() time.Time // for tests; nil means time.Now
}

// NewDocs returns a document store over b with the given key prefix, for
// documents whose robots are of kinds.
func NewDocs(b store.Backend, prefix string, kinds config.Kinds) *Docs {
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	return &Docs{B: b, Prefix: prefix, Kinds: kinds}
}

// Key is the document's key.
func (s *Docs) Key() string { return store.ConfigKey(s.Prefix) }

func (s *Docs) historyPrefix() string { return s.Prefix + "v1/history/" }

func (s *Docs) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load reads and parses the document. A missing document gives store.ErrNotFound;
// an invalid one gives the validation error (config.FieldErrors).
func (s *Docs) Load(ctx context.Context) (*config.Document, string, error) {
	obj, err := s.B.Get(ctx, s.Key(), "")
	if err != nil {
		return nil, "", err
	}
	d, err := config.Parse(obj.Data, s.Kinds)
	if err != nil {
		return nil, obj.ETag, fmt.Errorf("%s: %w", s.Key(), err)
	}
	return d, obj.ETag, nil
}

// LoadOrEmpty is Load, with an empty document (and ETag "") when none is
// stored yet.
func (s *Docs) LoadOrEmpty(ctx context.Context) (*config.Document, string, error) {
	d, tag, err := s.Load(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return config.Empty(), "", nil
	}
	return d, tag, err
}

// Save validates d and writes it if the stored document still has the ETag
// the caller read (etag "" means none was stored). The previous version goes
// to the history first. It returns the new ETag, or an error wrapping
// store.ErrConflict when someone else wrote in between.
func (s *Docs) Save(ctx context.Context, d *config.Document, etag string) (string, error) {
	if d.Schema == 0 {
		d.Schema = config.SchemaVersion
	}
	if err := d.Validate(s.Kinds); err != nil {
		return "", err
	}
	data, err := config.Marshal(d)
	if err != nil {
		return "", err
	}
	return s.SaveRaw(ctx, data, etag)
}

// SaveRaw is Save for an encoded document, which must be valid.
func (s *Docs) SaveRaw(ctx context.Context, data []byte, etag string) (string, error) {
	if _, err := config.Parse(data, s.Kinds); err != nil {
		return "", err
	}
	prev, err := s.B.Get(ctx, s.Key(), "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		if etag != "" {
			return "", fmt.Errorf("write %s: %w (it was deleted)", s.Key(), store.ErrConflict)
		}
	case err != nil:
		return "", err
	case prev.ETag != etag:
		return "", fmt.Errorf("write %s: %w", s.Key(), store.ErrConflict)
	default:
		hk := s.historyPrefix() + s.now().UTC().Format("20060102T150405.000000Z") + ".json"
		if _, err := s.B.Put(ctx, hk, prev.Data, nil); err != nil {
			return "", fmt.Errorf("keep previous version: %w", err)
		}
	}
	newTag, err := s.B.Put(ctx, s.Key(), data, &etag)
	if err != nil {
		return "", err
	}
	s.prune(ctx)
	return newTag, nil
}

func (s *Docs) prune(ctx context.Context) {
	keep := s.Keep
	if keep <= 0 {
		keep = HistoryKeep
	}
	keys, err := s.B.List(ctx, s.historyPrefix())
	if err != nil || len(keys) <= keep {
		return
	}
	for _, k := range keys[:len(keys)-keep] {
		_ = s.B.Delete(ctx, k)
	}
}

// Version is one kept previous document.
type Version struct {
	ID   string    `json:"id"` // e.g. 20261125T101500.000000Z
	Time time.Time `json:"time"`
}

// History lists the kept previous versions, newest first.
func (s *Docs) History(ctx context.Context) ([]Version, error) {
	keys, err := s.B.List(ctx, s.historyPrefix())
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, s.historyPrefix()), ".json")
		t, err := time.Parse("20060102T150405.000000Z", id)
		if err != nil {
			continue
		}
		out = append(out, Version{ID: id, Time: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// ReadVersion returns a kept previous document.
func (s *Docs) ReadVersion(ctx context.Context, id string) ([]byte, error) {
	if _, err := time.Parse("20060102T150405.000000Z", id); err != nil {
		return nil, fmt.Errorf("version %q: %w", id, store.ErrNotFound)
	}
	obj, err := s.B.Get(ctx, s.historyPrefix()+id+".json", "")
	if err != nil {
		return nil, err
	}
	return obj.Data, nil
}

// Restore makes a kept version the current document (itself a write, so the
// document it replaces goes to the history too).
func (s *Docs) Restore(ctx context.Context, id, etag string) (string, error) {
	data, err := s.ReadVersion(ctx, id)
	if err != nil {
		return "", err
	}
	return s.SaveRaw(ctx, data, etag)
}
