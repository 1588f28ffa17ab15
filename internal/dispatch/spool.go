package dispatch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sentry-white/sentry-white/internal/store"
)

// spool keeps one file per accepted, undelivered job. Files hold robot
// credentials, so the folder and files are private to the relay's user.
type spool struct{ dir string }

func openSpool(dir string) (*spool, []*Job, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	var jobs []*Job
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var j Job
		if err := json.Unmarshal(b, &j); err != nil || j.ID == "" {
			// A torn or foreign file: keep it aside rather than lose it.
			_ = os.Rename(filepath.Join(dir, e.Name()), filepath.Join(dir, e.Name()+".bad"))
			continue
		}
		jobs = append(jobs, &j)
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].Created.Before(jobs[b].Created) })
	return &spool{dir: dir}, jobs, nil
}

func (s *spool) path(id string) string { return filepath.Join(s.dir, id+".json") }

func (s *spool) put(j *Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(s.path(j.ID), b, 0o600)
}

func (s *spool) remove(id string) { _ = os.Remove(s.path(id)) }
