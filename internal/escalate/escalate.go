// Package escalate keeps what escalations need in the store (contract §7
// projects[].escalation): the chain of an alert nobody took, one per
// project and Sentry issue; the acknowledgements that stop it (Sentry
// reported the issue assigned, resolved or ignored, or someone used an
// action link); and when each organization last sent an issue webhook, so
// the configurator can warn that escalation cannot know about
// acknowledgements without them. The relay's webhook path writes chains and
// acknowledgements (package timed's Runner.Observe); the timed work reads
// them and sends the steps (package timed, escalation.go).
//
// Keys, under the store's prefix:
//
//	v1/escalations/<project id>/<issue>/<chain>.json          a chain (written once, never changed)
//	v1/escalations/<project id>/<issue>/<chain>-end-<unix>.json  the chain ended then (steps done, acknowledged)
//	v1/acks/<organization id>/<issue>/<unix ms>-<kind>.json    an acknowledgement
//	v1/issue-webhooks/<organization id>.json                   the last issue webhook seen (at most hourly)
//
// <chain> counts from 1: the first alert of an issue starts chain 1 (a
// create-if-absent write, so every later alert of the issue, in any
// process, finds it and starts nothing); a regression starts the next. A
// chain is stopped by an acknowledgement made after it started.
package escalate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Retention is how long an ended chain, and an acknowledgement, stay in the
// store. Once an issue's last chain is removed, its next alert starts a new
// chain: an issue still alerting a week after nobody took it (or after it
// was assigned) is escalated again.
const Retention = 7 * 24 * time.Hour

// Kinds of acknowledgement.
const (
	AckResolved = "resolved"
	AckAssigned = "assigned"
	AckIgnored  = "ignored"
	AckAction   = "action" // an action link was used
)

// Store is where escalations keep their state: a backend and the prefix
// of the configuration's keys ("api/").
type Store struct {
	B      store.Backend
	Prefix string
}

// Chain is one escalation of one issue of one project: the alert that
// started it, when the group got it, and where it went. Written once.
type Chain struct {
	Project int64  `json:"project"`
	Org     int64  `json:"org,omitempty"`
	Issue   string `json:"issue"`
	Gen     int    `json:"chain"`
	// Created is when the alert (or the regression) came: an
	// acknowledgement made since stops the chain.
	Created time.Time `json:"created"`
	// Started is when the group got the alert: when it was delivered, or,
	// for an alert held through quiet hours, when they end.
	Started time.Time `json:"started"`
	Level   string    `json:"level,omitempty"`
	// Robots are the robots the alert went to.
	Robots []int64 `json:"robots"`
	// Event is the alert's facts (render.Facts), rendered again for each
	// step from the document then in use.
	Event *sentry.Event `json:"event"`
}

// Ref is a chain as its keys name it.
type Ref struct {
	Key     string // the chain object
	Project int64
	Issue   string // as in the key (IssueKey)
	Gen     int
	// EndedAt is when the chain ended, zero while it runs.
	EndedAt time.Time
}

// ID names the chain in claims and logs: "<project>/<issue>/<chain>".
func (r Ref) ID() string { return fmt.Sprintf("%d/%s/%d", r.Project, r.Issue, r.Gen) }

// Acknowledgement is an issue taken: by whom, when, how.
type Acknowledgement struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`         // AckResolved, AckAssigned, AckIgnored, AckAction
	By   string    `json:"by,omitempty"` // who, when known
}

// IssueKey is a Sentry issue id as it appears in keys: the id itself when
// it is one (digits, letters, - and _, up to 64), else a hash of it.
func IssueKey(id string) string {
	id = strings.TrimSpace(id)
	ok := id != "" && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
	}
	if ok {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h" + hex.EncodeToString(sum[:12])
}

func (s Store) dir() string { return s.Prefix + "v1/escalations/" }

func (s Store) issueDir(project int64, issue string) string {
	return fmt.Sprintf("%s%d/%s/", s.dir(), project, IssueKey(issue))
}

func (s Store) ackDir(org int64) string { return fmt.Sprintf("%sv1/acks/%d/", s.Prefix, org) }

// Start writes chain 1 of c's issue unless the issue has a chain already
// (of any process): created reports whether this call started it.
func (s Store) Start(ctx context.Context, c *Chain) (created bool, err error) {
	c.Gen = 1
	return s.create(ctx, c)
}

// Restart starts the next chain of c's issue (a regression): its chain
// number is one more than the issue's latest.
func (s Store) Restart(ctx context.Context, c *Chain) (created bool, err error) {
	keys, err := s.B.List(ctx, s.issueDir(c.Project, c.Issue))
	if err != nil {
		return false, fmt.Errorf("escalation of issue %s: %w", c.Issue, err)
	}
	c.Gen = 1
	for _, k := range keys {
		if r, ok := s.parse(k); ok && r.Gen >= c.Gen {
			c.Gen = r.Gen + 1
		}
	}
	return s.create(ctx, c)
}

func (s Store) create(ctx context.Context, c *Chain) (bool, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return false, err
	}
	key := fmt.Sprintf("%s%d.json", s.issueDir(c.Project, c.Issue), c.Gen)
	create := ""
	switch _, err := s.B.Put(ctx, key, data, &create); {
	case errors.Is(err, store.ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("start the escalation of issue %s: %w", c.Issue, err)
	}
	return true, nil
}

// parse reads a key under v1/escalations/.
func (s Store) parse(key string) (Ref, bool) {
	rest, ok := strings.CutPrefix(key, s.dir())
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return Ref{}, false
	}
	project, err := strconv.ParseInt(parts[0], 10, 64)
	name, isJSON := strings.CutSuffix(parts[2], ".json")
	if err != nil || !isJSON || parts[1] == "" {
		return Ref{}, false
	}
	r := Ref{Project: project, Issue: parts[1]}
	gen, end, ended := strings.Cut(name, "-end-")
	n, err := strconv.Atoi(gen)
	if err != nil || n < 1 {
		return Ref{}, false
	}
	r.Gen = n
	r.Key = fmt.Sprintf("%s%d/%s/%d.json", s.dir(), project, parts[1], n)
	if ended {
		sec, err := strconv.ParseInt(end, 10, 64)
		if err != nil {
			return Ref{}, false
		}
		r.EndedAt = time.Unix(sec, 0)
	}
	return r, true
}

// List returns the latest chain of each issue that has one, with whether
// and when it ended, sorted by key.
func (s Store) List(ctx context.Context) ([]Ref, error) {
	keys, err := s.B.List(ctx, s.dir())
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	latest := map[string]Ref{} // by issue folder
	for _, k := range keys {
		r, ok := s.parse(k)
		if !ok {
			continue
		}
		folder := r.Key[:strings.LastIndexByte(r.Key, '/')+1]
		cur, seen := latest[folder]
		switch {
		case !seen || r.Gen > cur.Gen:
			latest[folder] = r
		case r.Gen == cur.Gen && !r.EndedAt.IsZero():
			cur.EndedAt = r.EndedAt
			latest[folder] = cur
		}
	}
	out := make([]Ref, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Ref) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Read reads a chain.
func (s Store) Read(ctx context.Context, r Ref) (*Chain, error) {
	obj, err := s.B.Get(ctx, r.Key, "")
	if err != nil {
		return nil, fmt.Errorf("read escalation %s: %w", r.ID(), err)
	}
	var c Chain
	if err := json.Unmarshal(obj.Data, &c); err != nil || c.Event == nil {
		return nil, fmt.Errorf("read escalation %s: not a chain", r.ID())
	}
	return &c, nil
}

// End marks a chain ended at (its steps are done, or it was
// acknowledged): no step of it is sent after.
func (s Store) End(ctx context.Context, r Ref, at time.Time, why string) error {
	data, _ := json.Marshal(map[string]any{"at": at.UTC(), "why": why})
	key := strings.TrimSuffix(r.Key, ".json") + "-end-" + strconv.FormatInt(at.Unix(), 10) + ".json"
	if _, err := s.B.Put(ctx, key, data, nil); err != nil {
		return fmt.Errorf("end escalation %s: %w", r.ID(), err)
	}
	return nil
}

// Acknowledge records that issue of organization org was acknowledged: a
// chain of the issue started before a.At sends no step after it.
func (s Store) Acknowledge(ctx context.Context, org int64, issue string, a Acknowledgement) error {
	if strings.TrimSpace(issue) == "" {
		return errors.New("acknowledge: no issue id")
	}
	switch a.Kind {
	case AckResolved, AckAssigned, AckIgnored, AckAction:
	default:
		return fmt.Errorf("acknowledge: %q is not a kind of acknowledgement", a.Kind)
	}
	a.At = a.At.UTC()
	data, _ := json.Marshal(a)
	key := fmt.Sprintf("%s%s/%d-%s.json", s.ackDir(org), IssueKey(issue), a.At.UnixMilli(), a.Kind)
	if _, err := s.B.Put(ctx, key, data, nil); err != nil {
		return fmt.Errorf("record the acknowledgement of issue %s: %w", issue, err)
	}
	return nil
}

// Ack records that someone used an action link on issue issueID of
// organization orgID (by names them): the issue's escalation stops. An
// action that succeeded in Sentry calls it.
func Ack(ctx context.Context, b store.Backend, prefix string, orgID int64, issueID, by string) error {
	return Store{B: b, Prefix: prefix}.Acknowledge(ctx, orgID, issueID, Acknowledgement{At: time.Now(), Kind: AckAction, By: by})
}

// AckRef is an acknowledgement as its key names it.
type AckRef struct {
	Key   string
	Issue string // as in the key (IssueKey)
	At    time.Time
	Kind  string
}

// Acks lists the acknowledgements of organization org's issues, those of
// one issue when issue is not "".
func (s Store) Acks(ctx context.Context, org int64, issue string) ([]AckRef, error) {
	prefix := s.ackDir(org)
	if issue != "" {
		prefix += IssueKey(issue) + "/"
	}
	keys, err := s.B.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list acknowledgements: %w", err)
	}
	var out []AckRef
	for _, k := range keys {
		rest := strings.TrimPrefix(k, s.ackDir(org))
		iss, name, ok := strings.Cut(rest, "/")
		name, isJSON := strings.CutSuffix(name, ".json")
		ms, kind, ok2 := strings.Cut(name, "-")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || !isJSON || !ok2 || err != nil || strings.Contains(name, "/") {
			continue
		}
		out = append(out, AckRef{Key: k, Issue: iss, At: time.UnixMilli(n), Kind: kind})
	}
	return out, nil
}

// Acked returns the first acknowledgement of issue of organization org
// made at or after since (a chain's Created), or nil.
func (s Store) Acked(ctx context.Context, org int64, issue string, since time.Time) (*Acknowledgement, error) {
	refs, err := s.Acks(ctx, org, issue)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if r.At.Before(since.Truncate(time.Millisecond)) {
			continue
		}
		a := Acknowledgement{At: r.At, Kind: r.Kind}
		if obj, err := s.B.Get(ctx, r.Key, ""); err == nil {
			_ = json.Unmarshal(obj.Data, &a)
		}
		return &a, nil
	}
	return nil, nil
}

func (s Store) seenKey(org int64) string {
	return fmt.Sprintf("%sv1/issue-webhooks/%d.json", s.Prefix, org)
}

// SawIssueWebhook records that organization org sent an issue webhook at.
func (s Store) SawIssueWebhook(ctx context.Context, org int64, at time.Time) error {
	data, _ := json.Marshal(map[string]any{"last": at.UTC()})
	if _, err := s.B.Put(ctx, s.seenKey(org), data, nil); err != nil {
		return fmt.Errorf("record the issue webhook: %w", err)
	}
	return nil
}

// LastIssueWebhook returns when organization org last sent an issue
// webhook, as recorded (at most an hour late); zero when never.
func (s Store) LastIssueWebhook(ctx context.Context, org int64) (time.Time, error) {
	obj, err := s.B.Get(ctx, s.seenKey(org), "")
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var v struct {
		Last time.Time `json:"last"`
	}
	if err := json.Unmarshal(obj.Data, &v); err != nil {
		return time.Time{}, fmt.Errorf("read %s: %w", s.seenKey(org), err)
	}
	return v.Last, nil
}

// Prune removes what is older than Retention at now: every chain of an
// issue whose latest chain ended before, and acknowledgements made
// before. It returns how many objects it removed.
func (s Store) Prune(ctx context.Context, now time.Time) (int, error) {
	before := now.Add(-Retention)
	keys, err := s.B.List(ctx, s.dir())
	if err != nil {
		return 0, err
	}
	byIssue := map[string][]string{}
	latest := map[string]Ref{}
	for _, k := range keys {
		r, ok := s.parse(k)
		if !ok {
			continue
		}
		folder := r.Key[:strings.LastIndexByte(r.Key, '/')+1]
		byIssue[folder] = append(byIssue[folder], k)
		cur, seen := latest[folder]
		if !seen || r.Gen > cur.Gen || r.Gen == cur.Gen && !r.EndedAt.IsZero() {
			latest[folder] = r
		}
	}
	removed := 0
	var errs []error
	for folder, r := range latest {
		if r.EndedAt.IsZero() || !r.EndedAt.Before(before) {
			continue
		}
		for _, k := range byIssue[folder] {
			if err := s.B.Delete(ctx, k); err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	ackKeys, err := s.B.List(ctx, s.Prefix+"v1/acks/")
	if err != nil {
		return removed, errors.Join(append(errs, err)...)
	}
	for _, k := range ackKeys {
		name := k[strings.LastIndexByte(k, '/')+1:]
		ms, _, _ := strings.Cut(name, "-")
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil || !time.UnixMilli(n).Before(before) {
			continue
		}
		if err := s.B.Delete(ctx, k); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
