package docstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/store"
)

// DefaultWindow is how long the relay trusts its cached document before it
// revalidates it with a conditional GET.
const DefaultWindow = 10 * time.Second

// Cache holds the last good document for the relay. A cold start loads it
// once; afterwards a caller costs no store read, and at most one conditional
// read (If-None-Match) happens per window. When the store fails or holds an
// invalid document, the cache keeps serving the last good one and reports
// the fault in Status.
type Cache struct {
	B   store.Backend
	Key string
	// Kinds are the robot kinds the document's robots may be of (the
	// registry's, notifiers.Registry.Document).
	Kinds  config.Kinds
	Window time.Duration    // 0 means DefaultWindow
	Now    func() time.Time // nil means time.Now
	// StaleReadTimeout bounds a revalidation made while a good document is
	// cached, so a hung store never holds a webhook past Sentry's timeout;
	// 0 means 500 ms. The cold-start read is bounded only by the caller.
	StaleReadTimeout time.Duration

	mu         sync.Mutex
	cur        *config.Index
	etag       string // ETag of the last document read, good or bad
	goodETag   string // ETag of cur
	loadedAt   time.Time
	checkedAt  time.Time // the last read that reached the store's answer
	retryAt    time.Time // after a failed read, when to try again
	failures   int       // failed reads in a row
	refreshing bool
	lastErr    error
	lastErrAt  time.Time
	// fresh is the document and until when it needs no check: what every
	// webhook within the window gets without taking mu.
	fresh atomic.Pointer[freshDoc]
}

type freshDoc struct {
	x     *config.Index
	until time.Time
}

// NewCache returns a cache of the document at key in b, whose robots are
// of kinds.
func NewCache(b store.Backend, key string, window time.Duration, kinds config.Kinds) *Cache {
	return &Cache{B: b, Key: key, Window: window, Kinds: kinds}
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// window is how long a read is trusted: Window, DefaultWindow when it is
// zero, and no time at all when it is negative (revalidate on every call,
// for a folder store, where a conditional read is one stat).
func (c *Cache) window() time.Duration {
	switch {
	case c.Window == 0:
		return DefaultWindow
	case c.Window < 0:
		return 0
	}
	return c.Window
}

// Get returns the current document. It reads the store only on the first
// call (or while no good document was ever read) and, after that, at most
// once per window; other callers meanwhile get the cached document.
func (c *Cache) Get(ctx context.Context) (*config.Index, error) {
	now := c.now()
	if f := c.fresh.Load(); f != nil && now.Before(f.until) {
		return f.x, nil
	}
	c.mu.Lock()
	if c.cur != nil && (c.refreshing || now.Before(c.retryAt) || c.window() > 0 && now.Sub(c.checkedAt) < c.window()) {
		x := c.cur
		c.mu.Unlock()
		return x, nil
	}
	if c.cur != nil {
		// Stale: this caller revalidates; others keep the cached copy.
		c.refreshing = true
		c.mu.Unlock()
		limit := c.StaleReadTimeout
		if limit <= 0 {
			limit = 500 * time.Millisecond
		}
		rctx, cancel := context.WithTimeout(ctx, limit)
		c.refresh(rctx)
		cancel()
		c.mu.Lock()
		c.refreshing = false
		x := c.cur
		c.mu.Unlock()
		return x, nil
	}
	c.mu.Unlock()
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur, nil
}

// Refresh revalidates now, whatever the window, and returns the fault if
// the store could not be read or holds an invalid document.
func (c *Cache) Refresh(ctx context.Context) error { return c.refresh(ctx) }

func (c *Cache) refresh(ctx context.Context) error {
	c.mu.Lock()
	etag := c.etag
	if c.cur == nil {
		etag = ""
	}
	c.mu.Unlock()

	obj, err := c.B.Get(ctx, c.Key, etag)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && !errors.Is(err, store.ErrNotModified) {
		// A read that failed is not a check: the next caller tries again,
		// after a backoff (0.5 s, 1 s, 2 s, … up to the window), so a
		// fault — or a request with bad credentials — never keeps an edit
		// from taking effect for a whole window.
		c.failures++
		c.retryAt = now.Add(min(c.window(), 500*time.Millisecond<<min(c.failures-1, 8)))
		c.lastErr, c.lastErrAt = err, now
		return err
	}
	c.checkedAt, c.failures, c.retryAt = now, 0, time.Time{}
	defer c.markFresh()
	if err != nil { // not modified
		if c.etag == c.goodETag {
			c.lastErr = nil
		}
		return c.lastErr
	}
	d, perr := config.Parse(obj.Data, c.Kinds)
	if perr != nil {
		c.lastErr, c.lastErrAt = fmt.Errorf("the document %s is invalid: %w", c.Key, perr), now
		// Remember the bad ETag too, so an unchanged bad document is not
		// fetched and parsed again every window.
		if c.cur != nil {
			c.etag = obj.ETag
		}
		return c.lastErr
	}
	x := config.NewIndex(d)
	x.Version = obj.ETag
	c.cur, c.etag, c.goodETag, c.loadedAt, c.lastErr = x, obj.ETag, obj.ETag, now, nil
	return nil
}

// markFresh publishes the current document until the window after the
// last check ends. Call with c.mu held.
func (c *Cache) markFresh() {
	if w := c.window(); c.cur != nil && w > 0 {
		c.fresh.Store(&freshDoc{x: c.cur, until: c.checkedAt.Add(w)})
	}
}

// Status describes the cache for the deploy check.
type Status struct {
	Loaded   bool      // a good document is in use
	Projects int       // projects in the document in use
	LoadedAt time.Time // when the document in use was read
	Err      error     // the last fault, nil when the last read was good
	ErrAt    time.Time
}

// Status reports what the cache holds and its last fault.
func (c *Cache) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Status{Loaded: c.cur != nil, LoadedAt: c.loadedAt, Err: c.lastErr, ErrAt: c.lastErrAt}
	if c.cur != nil {
		s.Projects = len(c.cur.Doc.Projects)
	}
	return s
}
