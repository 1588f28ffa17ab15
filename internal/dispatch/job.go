package dispatch

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// Job is one rendered alert for one robot: a plain record, what the spool
// writes (JSON), a hand-off carries and an Outcome reports. It holds no
// lock and no live state (the dispatcher keeps that beside it, in a task),
// so whoever builds a job — the relay for a webhook, timed work, a test —
// builds a value, and one read back from disk or from a hand-off is the
// same kind of value.
//
// It names the robot and the project by id and holds no credential: the
// robot, its keyword and the owners to @-mention are looked up in the
// current configuration when the job is sent (Resolver), so an edit
// reaches queued alerts, and spool files and hand-offs carry no secret.
//
// Its maker says what the alert is (ids, Message, Cost, Created,
// RepeatKey, Source); the dispatcher updates Tries, NotBefore, Repeats,
// Folded, Sending and PossibleRepeat while the job waits or is retried.
type Job struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id,omitempty"`
	RobotID   int64  `json:"robot_id"`
	// Kind is the robot's kind when the job was made, for its budget until
	// the robot is looked up again.
	Kind      string `json:"kind"`
	ProjectID int64  `json:"project_id,omitempty"`
	Project   string `json:"project"` // slug
	// ProjectName is the project's display name.
	ProjectName string `json:"project_name,omitempty"`
	// PayloadOrg is the organization the webhook named when it is not the
	// project's (the project was found by its slug alone).
	PayloadOrg string `json:"payload_org,omitempty"`
	// Message is the alert as rendered, without the robot's addressing
	// (keyword, mentions), which the Resolver adds.
	Message notify.Message `json:"message"`
	// Mention is the alert rule's mention (owners, oncall, all, none) the
	// Resolver rings instead of the project's way; "" for the project's.
	Mention string `json:"mention,omitempty"`
	// Rule and Facts are for the delivery history: what the alert rule's
	// settings decided, and whether Sentry's facts were added (or why
	// not); opaque here.
	Rule  string `json:"rule,omitempty"`
	Facts string `json:"facts,omitempty"`
	// Cost is how many of the robot's messages the job takes (a kind's
	// mentions by mobile need a second message).
	Cost    int       `json:"cost,omitempty"`
	Created time.Time `json:"created"`
	// Tries counts background delivery rounds that failed transiently.
	Tries int `json:"tries,omitempty"`
	// NotBefore holds a queued job back until then (a background retry
	// round); a job with it set is never merged with another.
	NotBefore time.Time `json:"not_before,omitempty"`
	// Repeats counts later alerts of the same issue merged into this queued
	// job, so a storm of one error holds one job, not thousands.
	Repeats int `json:"repeats,omitempty"`
	// Folded counts alerts of other issues folded into this job because
	// its robot's queue was full: the digest reports them as a number.
	Folded int `json:"folded,omitempty"`
	// RepeatKey identifies the issue for the relay's repeat window (a
	// hash, opaque here), so the window starts only once it is delivered.
	RepeatKey string `json:"repeat_key,omitempty"`
	// Silent is set on an alert that came in its project's quiet hours
	// (mode silent): it is sent without any @.
	Silent bool `json:"silent,omitempty"`
	// Source is what the message was rendered from, kept by the relay so
	// another invocation can render it again from the document it reads
	// (a hand-off); opaque here, and not spooled.
	Source any `json:"-"`
	// Sending is set in the job's spool file when its post takes its
	// connection to the robot, before the request is written (task.began),
	// and cleared when it goes back to the queue: a job found so at a start
	// was under way when the relay stopped, and the robot may have it.
	Sending bool `json:"sending,omitempty"`
	// PossibleRepeat marks a job the robot may already have (a send under
	// way when the relay stopped, or stopped at the answer on Function
	// Compute): it is sent again, saying 可能重复 / possible repeat.
	PossibleRepeat bool `json:"possible_repeat,omitempty"`
}

// cost is how many of its robot's messages j takes.
func cost(j *Job) int { return max(j.Cost, 1) }

// NewID returns a random job id: 24 hex digits (96 bits) from the
// runtime's ChaCha8 generator, seeded from the system's entropy. Ids name
// spool files and history records; they need to be unique, not secret, so
// no system call per id.
func NewID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

// Status of a job in an Outcome.
const (
	Delivered = "delivered" // the robot accepted it
	Failed    = "failed"    // final failure: recorded, not retried
	Queued    = "queued"    // over the robot's budget: it goes out in a digest
	Pending   = "pending"   // still being delivered after the answer
	// Unsaved: the job had to outlive the request and could not be saved
	// (the spool cannot be written); it is dropped, and the caller must say
	// so rather than claim the alert was accepted.
	Unsaved = "unsaved"
)

// Outcome is what happened to a job.
type Outcome struct {
	Job *Job
	// Robot is the robot as the job was sent to it, and Message what was
	// sent (a digest for several jobs); nil when the job was not sent.
	Robot    *config.Robot
	Message  *notify.Message
	Status   string
	Attempts int
	Err      *notify.Error
	// Digest is how many jobs went out in the same message (1 for a plain
	// message).
	Digest int
	At     time.Time
	// Late is set on a final outcome that came after Submit answered for
	// the job (it was queued, retried or still under way at the deadline):
	// the outcomes Submit returned did not report it.
	Late bool
}

// Resolver addresses jobs from the current configuration: it returns the
// robot they go to (by the jobs' RobotID) and the message to send — the
// job's own, or a digest of several, with the robot's keyword and the
// owners to @-mention now. An error (the robot was deleted) fails the jobs.
type Resolver func(ctx context.Context, jobs []*Job) (*config.Robot, *notify.Message, error)
