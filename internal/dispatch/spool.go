package dispatch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
//
// Jobs and budgets belong to the store (document) they were made for: in
// the spool folder each store has a folder of its own, store-<hash of its
// identity> (Options.Store), holding store.txt (the identity, for people),
// and a lock file that one process at a time holds. Other stores' folders,
// and job files an older version left at the top, are never read for
// sending, counted or deleted: they are reported (Foreign).
type spool struct {
	dir     string
	lock    *os.File // held while the dispatcher runs; nil when it cannot be
	foreign []ForeignSpool

	mu  sync.Mutex
	err error // the last failure to write, nil once a write succeeds
}

// ForeignSpool is a folder of alerts spooled for another store, or by an
// older version that did not say for which, found in the spool folder and
// left alone: a relay on that store sends them.
type ForeignSpool struct {
	Folder string `json:"folder"`
	Store  string `json:"store,omitempty"` // "" when it is not known
	Alerts int    `json:"alerts"`
}

// storeFile names, in a store's spool folder, the store it belongs to.
const storeFile = "store.txt"

// lockName is the lock file of a store's spool folder.
const lockName = "lock"

// errLocked is lockFile's answer when another process holds the lock.
var errLocked = errors.New("locked by another process")

// storeFolder is the name of a store's folder in a spool folder.
func storeFolder(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "store-" + hex.EncodeToString(sum[:8])
}

// isJobFile reports whether e is a spooled job's file.
func isJobFile(e os.DirEntry) bool {
	return !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && e.Name() != budgetFile
}

// countJobs counts the job files in dir.
func countJobs(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if isJobFile(e) {
			n++
		}
	}
	return n
}

// storeOf reads the store a spool folder belongs to ("" when unknown).
func storeOf(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, storeFile))
	return strings.TrimSpace(string(b))
}

// foreignSpools lists the alerts in root that are not own's: other stores'
// folders, and job files at the top (an older version's).
func foreignSpools(root, own string) []ForeignSpool {
	entries, _ := os.ReadDir(root)
	var out []ForeignSpool
	top := 0
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		switch {
		case e.IsDir() && strings.HasPrefix(e.Name(), "store-") && p != own:
			if n := countJobs(p); n > 0 {
				out = append(out, ForeignSpool{Folder: p, Store: storeOf(p), Alerts: n})
			}
		case isJobFile(e):
			top++
		}
	}
	if top > 0 {
		out = append(out, ForeignSpool{Folder: root, Store: storeOf(root), Alerts: top})
	}
	return out
}

// takeLock locks the spool folder for this process. Another relay holding
// it is an error: two relays sharing one folder would send each other's
// alerts twice and split the robots' budgets. A system that cannot lock
// leaves the folder unguarded.
func (s *spool) takeLock() error {
	f, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil // the folder cannot be written: Err says so
	}
	switch err := lockFile(f); {
	case errors.Is(err, errLocked):
		b := make([]byte, 20)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		return fmt.Errorf("spool folder %s is in use by another relay (process %s): give each relay its own spool folder (-spool, SENTRY_WHITE_SPOOL)",
			s.dir, strings.TrimSpace(string(b[:n])))
	case err != nil:
		f.Close()
		return nil
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	s.lock = f
	return nil
}

// release drops the folder's lock.
func (s *spool) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
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

// openSpool reads what a previous run of this store left in the spool
// folder root: its jobs, oldest first, its robots' budgets, and whether it
// crashed. With a store identity, the store's own folder in root is used
// and locked (an error when another relay holds it). A folder that cannot
// be created or read gives a spool whose Err says why.
func openSpool(root, storeID string) (*spool, []*Job, map[int64]savedBudget, bool, error) {
	dir := root
	if storeID != "" {
		dir = filepath.Join(root, storeFolder(storeID))
	}
	s := &spool{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.err = fmt.Errorf("spool %s: %w", dir, err)
		return s, nil, nil, false, nil
	}
	_ = os.Chmod(root, 0o700) // a folder made by an older version may be 0755
	_ = os.Chmod(dir, 0o700)
	if err := s.takeLock(); err != nil {
		return nil, nil, nil, false, err
	}
	if storeID != "" {
		if storeOf(dir) != storeID {
			_ = store.WriteFileAtomic(filepath.Join(dir, storeFile), []byte(storeID+"\n"), 0o600)
		}
		s.foreign = foreignSpools(root, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.err = fmt.Errorf("spool %s: %w", dir, err)
		return s, nil, nil, false, nil
	}
	var jobs []*Job
	for _, e := range entries {
		name := e.Name()
		if !isJobFile(e) {
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
	return s, jobs, budgets, crashed, nil
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
