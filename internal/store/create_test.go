package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestCreateIfAbsentOnce: of many create-if-absent writes of one key at
// once — the claims of timed work — exactly one succeeds, on a folder and
// on OSS (whose x-oss-forbid-overwrite the OSS stand-in enforces as OSS
// does, between the HEAD and the PUT too).
func TestCreateIfAbsentOnce(t *testing.T) {
	o, _ := newOSSPair(t)
	for name, b := range map[string]Backend{"file": NewFile(t.TempDir()), "oss": o} {
		t.Run(name, func(t *testing.T) {
			for round := range 5 {
				key := fmt.Sprintf("api/v1/claims/2026-12-14/handoff/1/%d/1", round)
				var wg sync.WaitGroup
				var mu sync.Mutex
				won, lost := 0, 0
				for i := range 8 {
					wg.Go(func() {
						create := ""
						_, err := b.Put(context.Background(), key, fmt.Appendf(nil, `{"by":%d}`, i), &create)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							won++
						case errors.Is(err, ErrConflict):
							lost++
						default:
							t.Errorf("create: %v", err)
						}
					})
				}
				wg.Wait()
				if won != 1 || lost != 7 {
					t.Errorf("round %d: %d creates won, %d lost; want 1 and 7", round, won, lost)
				}
			}
		})
	}
}
