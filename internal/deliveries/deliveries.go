// Package deliveries keeps the delivery history: one record per message a
// robot accepted or finally refused, in daily JSON-lines objects under
// <prefix>v1/deliveries/ (appended, cheap on OSS), and per webhook the
// relay refused, apart under <prefix>v1/deliveries/refused/, so that a
// stranger's flood of refused webhooks never pushes a delivery out; both
// kept for seven days. Failed records carry the message so the
// configurator can re-send it.
package deliveries

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Results.
const (
	Delivered = "delivered"
	Failed    = "failed"
	// Refused is a webhook the relay refused (a wrong token, an unknown
	// project, a bad signature, a body it could not read): no robot was
	// involved; Cause says why.
	Refused = "refused"
	// Held is an alert held through its project's quiet hours (mode hold):
	// kept in the store until HeldUntil, then sent in one digest, recorded
	// again under the same ID as delivered.
	Held = "held"
	// Acted is an action taken from the chat through an alert's link
	// (resolve, ignore, take): who, what, when and Sentry's answer, in
	// Action. No robot was involved; the follow-up it posted is recorded
	// apart, as a delivery.
	Acted = "action"
)

// Action is what a person did from the chat, and how it went.
type Action struct {
	Action         string `json:"action"` // resolve, ignore, take
	OrganizationID int64  `json:"organization_id"`
	Organization   string `json:"organization,omitempty"` // its name
	Issue          string `json:"issue"`                  // Sentry's issue id
	ShortID        string `json:"short_id,omitempty"`
	OwnerID        int64  `json:"owner_id,omitempty"`
	Who            string `json:"who"`                   // the owner who acted, as the page named them
	SentryUser     string `json:"sentry_user,omitempty"` // the assignee, for take
	// Outcome: done (Sentry made the change), already (the issue already
	// was so: nothing sent), refused (Sentry or the relay refused: nothing
	// changed), unknown (no answer in time: Sentry may have made it).
	Outcome string `json:"outcome"`
	// SentryStatus is the HTTP status Sentry answered the change (or the
	// read that decided it); 0 when Sentry was not reached.
	SentryStatus int `json:"sentry_status,omitempty"`
	// Answer is Sentry's answer in words: the issue's state after, or why
	// it refused.
	Answer string `json:"answer"`
	// State is the issue's status after (resolved, ignored, unresolved).
	State string `json:"state,omitempty"`
	// FollowUp says how the group was told: "posted" (the relay's own
	// follow-up), "off" (the project's follow-ups are off), or why not.
	FollowUp string `json:"follow_up,omitempty"`
}

// Outcomes of an action.
const (
	ActionDone    = "done"
	ActionAlready = "already"
	ActionRefused = "refused"
	ActionUnknown = "unknown"
)

// Record is one delivery.
type Record struct {
	ID          string    `json:"id"`
	Time        time.Time `json:"time"`
	RequestID   string    `json:"request_id,omitempty"`
	Project     string    `json:"project"`
	ProjectName string    `json:"project_name,omitempty"`
	// PayloadOrganization is the organization the webhook named when it is
	// not the project's: the project was found by its slug alone.
	PayloadOrganization string `json:"payload_organization,omitempty"`
	RobotID             int64  `json:"robot_id"`
	Robot               string `json:"robot"`
	Kind                string `json:"kind"`
	Result              string `json:"result"`
	Code                int    `json:"code,omitempty"`
	Error               string `json:"error,omitempty"`
	Fix                 string `json:"fix,omitempty"`
	// FixCode and FixParams are Fix coded (notify.Fix): the configurator
	// words it from the robot kind's words.
	FixCode   string         `json:"fix_code,omitempty"`
	FixParams map[string]any `json:"fix_params,omitempty"`
	Attempts  int            `json:"attempts,omitempty"`
	LatencyMS float64        `json:"latency_ms"`
	Title     string         `json:"title,omitempty"`
	Link      string         `json:"link,omitempty"`
	Level     string         `json:"level,omitempty"`
	Digest    int            `json:"digest,omitempty"`    // alerts merged into this message
	ResendOf  string         `json:"resend_of,omitempty"` // the failed record this one re-sent
	// Rule says what the alert rule's settings (robot, mention) decided,
	// and why they could not be followed when they could not.
	Rule string `json:"rule,omitempty"`
	// Facts is "added" when Sentry's facts about the issue (counts, state,
	// assignee) were added to the message, else why they were not (no
	// answer within the budget, the token refused, …); "" when none were
	// asked for (no token, or an alert without an issue).
	Facts   string          `json:"facts,omitempty"`
	Message *notify.Message `json:"message,omitempty"` // kept on failures for re-sending
	// HeldUntil is when the quiet hours that hold a held alert end.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// Action is an action taken from the chat (Result Acted).
	Action *Action `json:"action,omitempty"`
	// State is the alert's state as its message shows it (new, regressed,
	// resolved, triggered, …), for the morning summary.
	State string `json:"state,omitempty"`
	// Escalation is the step (1, 2, …) of an escalation this message was:
	// the alert posted again because nobody took it.
	Escalation int `json:"escalation,omitempty"`

	// A refused webhook: why (Cause: token_missing, token_wrong,
	// unknown_project, signature, content_type, too_large, body, parse,
	// store), the HTTP status answered, and what Sentry sent: the
	// resource (Sentry-Hook-Resource, "legacy" for the WebHooks plugin),
	// the organization and the Sentry host its links name. Error is the
	// answer, Fix what to do; Project holds the slugs the body named.
	// Never the token or a secret.
	Cause    string `json:"cause,omitempty"`
	Status   int    `json:"status,omitempty"`
	Resource string `json:"resource,omitempty"`
	Org      string `json:"org,omitempty"`
	Host     string `json:"host,omitempty"`
}

// KeepDays is how many daily objects are kept.
const KeepDays = 7

// MaxList bounds a listing.
const MaxList = 1000

// MaxRefusedListed bounds the refused webhooks an unfiltered listing adds
// to its deliveries (a listing of refusals alone shows up to its limit):
// whoever can reach the relay can add refusals, never push deliveries out.
const MaxRefusedListed = 100

// Log appends records to a store backend.
type Log struct {
	B      store.Backend
	Prefix string
	Now    func() time.Time
	Logger *slog.Logger
	// FlushAt is how many buffered records make Run flush before its
	// interval ends, so an error storm never holds thousands of records
	// in memory; 0 means DefaultFlushAt.
	FlushAt int

	mu       sync.Mutex
	buf      []Record
	writing  int // records taken by a Flush still under way
	prunedOn string
	full     chan struct{} // Run's early-flush signal
	// flushing is held by the Flush under way: one at a time, so that
	// callers meeting one wait for it and then write together what they
	// added meanwhile (on FC, every webhook flushes before its answer).
	flushing chan struct{}
}

// DefaultFlushAt is the default Log.FlushAt.
const DefaultFlushAt = 512

// New returns a log in b under prefix.
func New(b store.Backend, prefix string, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{B: b, Prefix: prefix, Logger: logger}
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Log) dir() string { return l.Prefix + "v1/deliveries/" }

func (l *Log) refusedDir() string { return l.dir() + "refused/" }

// key is the object a record of day goes to: refused webhooks apart.
func (l *Log) key(r *Record, day string) string {
	if r.Result == Refused {
		return l.refusedDir() + day + ".jsonl"
	}
	return l.dir() + day + ".jsonl"
}

// Add buffers a record; Flush writes it.
func (l *Log) Add(r Record) {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	if r.Result == Delivered {
		r.Message = nil // only failures need the message to re-send
	}
	at := l.FlushAt
	if at <= 0 {
		at = DefaultFlushAt
	}
	l.mu.Lock()
	l.buf = append(l.buf, r)
	full := len(l.buf) >= at
	l.mu.Unlock()
	if full {
		select {
		case l.signal() <- struct{}{}:
		default: // a flush is already due
		}
	}
}

func (l *Log) flushTurn() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flushing == nil {
		l.flushing = make(chan struct{}, 1)
	}
	return l.flushing
}

func (l *Log) signal() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full == nil {
		l.full = make(chan struct{}, 1)
	}
	return l.full
}

// Pending reports how many records are not yet written: waiting for Flush
// or being written by one.
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buf) + l.writing
}

type appender interface {
	Append(ctx context.Context, key string, data []byte) error
}

// Flush appends the buffered records to the day's object (one write per
// day touched) and prunes objects older than KeepDays once a day. It
// returns once the records added before the call are written (or failed).
// Flushes take turns: one that finds another under way waits for it, then
// writes what is left, its own records and whatever others added
// meanwhile, in one append per day — concurrent webhooks on FC share
// appends instead of queueing one each.
func (l *Log) Flush(ctx context.Context) error {
	turn := l.flushTurn()
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("delivery history: %w", ctx.Err())
	}
	defer func() { <-turn }()
	l.mu.Lock()
	recs := l.buf
	l.buf = nil
	l.writing += len(recs) // still pending until written (or put back)
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.writing -= len(recs)
		l.mu.Unlock()
	}()
	if len(recs) == 0 {
		return nil
	}
	byKey := map[string]*bytes.Buffer{}
	var keys []string
	for i := range recs {
		key := l.key(&recs[i], recs[i].Time.UTC().Format("2006-01-02"))
		b := byKey[key]
		if b == nil {
			b = bytes.NewBuffer(make([]byte, 0, 384*len(recs))) // a delivered record's line is about 300 bytes
			byKey[key] = b
			keys = append(keys, key)
		}
		line, err := appendRecord(b.AvailableBuffer(), &recs[i])
		if err != nil {
			continue
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	var errs []error
	for _, key := range keys {
		if err := l.append(ctx, key, byKey[key].Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Keep them for the next flush rather than lose them.
		l.mu.Lock()
		l.buf = keepNewest(append(recs, l.buf...), 10*MaxList)
		l.mu.Unlock()
		return fmt.Errorf("delivery history: %w", err)
	}
	l.prune(ctx)
	return nil
}

// keepNewest bounds records waiting for a store that fails to n, dropping
// the oldest refused webhooks first: refusals never push out deliveries.
func keepNewest(recs []Record, n int) []Record {
	for i := 0; len(recs) > n && i < len(recs); {
		if recs[i].Result == Refused {
			recs = slices.Delete(recs, i, i+1)
			continue
		}
		i++
	}
	if len(recs) > n {
		recs = recs[len(recs)-n:]
	}
	return recs
}

func (l *Log) append(ctx context.Context, key string, data []byte) error {
	if a, ok := l.B.(appender); ok {
		return a.Append(ctx, key, data)
	}
	for try := 0; try < 5; try++ {
		obj, err := l.B.Get(ctx, key, "")
		etag := ""
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			etag = obj.ETag
		}
		_, err = l.B.Put(ctx, key, append(obj.Data, data...), &etag)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("append %s: %w", key, store.ErrConflict)
}

func (l *Log) prune(ctx context.Context) {
	today := l.now().UTC().Format("2006-01-02")
	l.mu.Lock()
	if l.prunedOn == today {
		l.mu.Unlock()
		return
	}
	l.prunedOn = today
	l.mu.Unlock()
	days, err := l.days(ctx)
	if err != nil {
		return
	}
	oldest := l.now().UTC().AddDate(0, 0, -KeepDays+1).Format("2006-01-02")
	for _, d := range days {
		if d.day < oldest {
			for _, k := range []string{d.deliveries, d.refused} {
				if k != "" {
					_ = l.B.Delete(ctx, k)
				}
			}
		}
	}
}

// day is one day of the history: the objects of its deliveries and of its
// refused webhooks ("" when there is none).
type day struct{ day, deliveries, refused string }

// days lists the days stored, newest first.
func (l *Log) days(ctx context.Context) ([]day, error) {
	keys, err := l.B.List(ctx, l.dir())
	if err != nil {
		return nil, err
	}
	byDay := map[string]*day{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, l.dir())
		refused := false
		if r, ok := strings.CutPrefix(rest, "refused/"); ok {
			rest, refused = r, true
		}
		name, ok := strings.CutSuffix(rest, ".jsonl")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		d := byDay[name]
		if d == nil {
			d = &day{day: name}
			byDay[name] = d
		}
		if refused {
			d.refused = k
		} else {
			d.deliveries = k
		}
	}
	out := make([]day, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day > out[j].day })
	return out, nil
}

// lines calls fn with each line of the object key, in the order written,
// until fn returns false. A missing object has none.
func (l *Log) lines(ctx context.Context, key string, fn func(line []byte) bool) error {
	if key == "" {
		return nil
	}
	obj, err := l.B.Get(ctx, key, "")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(obj.Data))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if !fn(sc.Bytes()) {
			break
		}
	}
	return nil
}

// Filter selects records.
type Filter struct {
	Project string // slug
	Robot   string // name
	Result  string // delivered, failed, refused, held or action
	Since   time.Time
	Limit   int // 0 means MaxList
}

// List returns the newest records first, at most f.Limit. Deliveries and
// refused webhooks are counted apart: without a result filter the list
// holds up to f.Limit deliveries and, among them by time, up to
// MaxRefusedListed refusals, so refusals never push deliveries out.
func (l *Log) List(ctx context.Context, f Filter) ([]Record, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxList {
		limit = MaxList
	}
	days, err := l.days(ctx)
	if err != nil {
		return nil, err
	}
	refusedLimit := 0
	switch f.Result {
	case "":
		refusedLimit = min(limit, MaxRefusedListed)
	case Refused:
		refusedLimit = limit
	}
	deliveryLimit := limit
	if f.Result == Refused {
		deliveryLimit = 0
	}
	since := ""
	if !f.Since.IsZero() {
		since = f.Since.UTC().Format("2006-01-02")
	}
	var dels, refs []Record
	for _, d := range days {
		needD, needR := len(dels) < deliveryLimit, len(refs) < refusedLimit
		if !needD && !needR || d.day < since {
			break
		}
		var dayD, dayR []Record
		keep := func(line []byte) bool {
			var r Record
			if json.Unmarshal(line, &r) != nil || !f.matches(&r) {
				return true // a torn line from an interrupted append
			}
			if r.Result == Refused {
				dayR = append(dayR, r)
			} else {
				dayD = append(dayD, r)
			}
			return true
		}
		// An older version kept a day's refusals with its deliveries.
		if needD || needR && d.refused == "" {
			if err := l.lines(ctx, d.deliveries, keep); err != nil {
				continue
			}
		}
		if needR {
			if err := l.lines(ctx, d.refused, keep); err != nil {
				continue
			}
		}
		dels, refs = append(dels, newestFirst(dayD)...), append(refs, newestFirst(dayR)...)
	}
	dels, refs = dels[:min(len(dels), deliveryLimit)], refs[:min(len(refs), refusedLimit)]
	out := make([]Record, 0, len(dels)+len(refs))
	for len(dels) > 0 || len(refs) > 0 {
		if len(refs) == 0 || len(dels) > 0 && !dels[0].Time.Before(refs[0].Time) {
			out, dels = append(out, dels[0]), dels[1:]
		} else {
			out, refs = append(out, refs[0]), refs[1:]
		}
	}
	return out, nil
}

func (f *Filter) matches(r *Record) bool {
	return (f.Project == "" || r.Project == f.Project) && (f.Robot == "" || r.Robot == f.Robot) &&
		(f.Result == "" || r.Result == f.Result) && (f.Since.IsZero() || !r.Time.Before(f.Since))
}

func newestFirst(recs []Record) []Record {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.After(recs[j].Time) })
	return recs
}

// Get returns the record with id (the newest one with that id), looking
// through the whole history, however many records it holds.
func (l *Log) Get(ctx context.Context, id string) (Record, error) {
	days, err := l.days(ctx)
	if err != nil {
		return Record{}, err
	}
	quoted, _ := json.Marshal(id)
	var found *Record
	for _, d := range days {
		for _, k := range []string{d.deliveries, d.refused} {
			err := l.lines(ctx, k, func(line []byte) bool {
				var r Record
				if bytes.Contains(line, quoted) && json.Unmarshal(line, &r) == nil && r.ID == id &&
					(found == nil || !r.Time.Before(found.Time)) {
					found = &r
				}
				return true
			})
			if err != nil {
				return Record{}, err
			}
		}
		if found != nil {
			return *found, nil
		}
	}
	return Record{}, fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
}

// Resends maps each record re-sent since since to the newest record that
// re-sent it (ResendOf), looking through every delivery since then.
func (l *Log) Resends(ctx context.Context, since time.Time) (map[string]Record, error) {
	return l.newestBy(ctx, since, []byte(`"resend_of":`), func(r *Record) string { return r.ResendOf })
}

// newestBy maps key(r) to the newest record r with that key, among the
// deliveries since since whose line holds marker (a quick filter before
// decoding); records whose key is "" are left out.
func (l *Log) newestBy(ctx context.Context, since time.Time, marker []byte, key func(r *Record) string) (map[string]Record, error) {
	days, err := l.days(ctx)
	if err != nil {
		return nil, err
	}
	from := since.UTC().Format("2006-01-02")
	out := map[string]Record{}
	for _, d := range days {
		if d.day < from {
			break
		}
		err := l.lines(ctx, d.deliveries, func(line []byte) bool {
			var r Record
			if bytes.Contains(line, marker) && json.Unmarshal(line, &r) == nil {
				if k := key(&r); k != "" {
					if prev, ok := out[k]; !ok || r.Time.After(prev.Time) {
						out[k] = r
					}
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run flushes every interval, and as soon as FlushAt records wait, until
// ctx ends, then once more.
func (l *Log) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	full := l.signal()
	var failed time.Time // the last failed flush, which holds early flushes back for an interval
	for {
		select {
		case <-full:
			if !failed.IsZero() && time.Since(failed) < interval {
				continue
			}
			failed = time.Time{}
			if err := l.Flush(ctx); err != nil {
				failed = time.Now()
				l.Logger.Warn("delivery history not written", "error", notify.Redact(err.Error()))
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.Flush(fctx); err != nil {
				l.Logger.Warn("delivery history not written", "error", notify.Redact(err.Error()))
			}
			cancel()
			return
		case <-t.C:
			failed = time.Time{}
			if err := l.Flush(ctx); err != nil {
				failed = time.Now()
				l.Logger.Warn("delivery history not written", "error", notify.Redact(err.Error()))
			}
		}
	}
}
