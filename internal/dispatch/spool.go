package dispatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/store"
)

// spool keeps one file per accepted, undelivered job, and the robots'
// recent sends (budget.json), so a restart neither loses an alert nor
// exceeds a robot's rate limit. The folder is private to the relay's user.
// A folder that cannot be written is not fatal: each write tries again,
// and Err says what is wrong until one succeeds.
type spool struct {
	dir string

	mu  sync.Mutex
	err error // the last failure to write, nil once a write succeeds
}

// budgetFile holds the robots' recent sends and blocks.
const budgetFile = "budget.json"

// cleanFile marks budget.json as complete: Close writes it after the last
// save, and a start removes it. A budget file without it was left by a
// crash and may miss the sends of its last moments.
const cleanFile = "budget.clean"

// savedBudget is one robot's budget state on disk.
type savedBudget struct {
	Kind         string      `json:"kind"`
	Sent         []time.Time `json:"sent,omitempty"`
	BlockedUntil time.Time   `json:"blocked_until,omitzero"`
}

// openSpool reads what a previous run left: its jobs, oldest first, and its
// robots' budgets. A folder that cannot be created or read gives a spool
// whose Err says why.
func openSpool(dir string) (*spool, []*Job, map[int64]savedBudget, bool) {
	s := &spool{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.err = fmt.Errorf("spool %s: %w", dir, err)
		return s, nil, nil, false
	}
	_ = os.Chmod(dir, 0o700) // a folder made by an older version may be 0755
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.err = fmt.Errorf("spool %s: %w", dir, err)
		return s, nil, nil, false
	}
	var jobs []*Job
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || name == budgetFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var j Job
		if err := json.Unmarshal(b, &j); err != nil || j.ID == "" || j.RobotID == 0 {
			// A torn, foreign or pre-id file: keep it aside rather than lose it.
			_ = os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".bad"))
			continue
		}
		jobs = append(jobs, &j)
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].Created.Before(jobs[b].Created) })
	var budgets map[int64]savedBudget
	crashed := false
	if b, err := os.ReadFile(filepath.Join(dir, budgetFile)); err == nil {
		_ = json.Unmarshal(b, &budgets)
		_, err := os.Stat(filepath.Join(dir, cleanFile))
		crashed = err != nil
	}
	_ = os.Remove(filepath.Join(dir, cleanFile)) // until this run closes
	return s, jobs, budgets, crashed
}

func (s *spool) path(id string) string { return filepath.Join(s.dir, id+".json") }

// write saves data under name, atomically, and records the outcome.
func (s *spool) write(name string, data []byte) error {
	err := os.MkdirAll(s.dir, 0o700)
	if err == nil {
		err = store.WriteFileAtomic(filepath.Join(s.dir, name), data, 0o600)
	}
	if err != nil {
		err = fmt.Errorf("spool %s: %w", s.dir, err)
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	return err
}

func (s *spool) put(j *Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.write(j.ID+".json", b)
}

func (s *spool) remove(id string) {
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.mu.Lock()
		s.err = fmt.Errorf("spool %s: %w", s.dir, err)
		s.mu.Unlock()
	}
}

func (s *spool) saveBudgets(b map[int64]savedBudget, clean bool) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	if err := s.write(budgetFile, data); err != nil || !clean {
		return err
	}
	return s.write(cleanFile, nil)
}

// Err returns the last write failure, or nil.
func (s *spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
