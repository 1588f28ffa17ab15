// Package nonce remembers values that may be used once (an admin
// request's nonce, a hand-off's id) until they can no longer be replayed,
// in bounded memory.
package nonce

import (
	"sync"
	"time"
)

// Result is what Use found.
type Result int

const (
	// New: the value was not seen; it is remembered now.
	New Result = iota
	// Replayed: the value was already used and has not expired.
	Replayed
	// Full: the memory holds its maximum of unexpired values; the value
	// is not remembered (refuse it until older ones expire).
	Full
)

// Set is a bounded set of used values; safe for concurrent use.
type Set struct {
	mu   sync.Mutex
	seen map[string]time.Time // value -> when it can be forgotten
	max  int
}

// NewSet returns a set that holds at most max values.
func NewSet(max int) *Set { return &Set{seen: map[string]time.Time{}, max: max} }

// Use marks v used until the time until, as of now.
func (s *Set) Use(v string, until, now time.Time) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.seen[v]; ok && now.Before(t) {
		return Replayed
	}
	if len(s.seen) >= s.max {
		for k, t := range s.seen {
			if !now.Before(t) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= s.max {
			return Full
		}
	}
	s.seen[v] = until
	return New
}

// Len is how many values the set holds.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}
