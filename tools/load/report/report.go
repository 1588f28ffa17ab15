// Package report is what the load tool (tools/load) measures
// and writes with -json, and what the bench driver (tools/bench)
// reads back to write BENCHMARKS.md: one type for both.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// Report is everything one invocation of the load tool measured.
type Report struct {
	Machine  Machine  `json:"machine"`
	Settings Settings `json:"settings"`
	// Relays are the relay binaries measured: the current one first, then
	// any baseline (-before).
	Relays    []Relay     `json:"relays"`
	Sizes     *Sizes      `json:"sizes,omitempty"`
	ColdStart []ColdStart `json:"cold_start"`
	Runs      []Run       `json:"runs"`
	// FC is the FC-shaped runs: each relay, a fresh process per run, in a
	// cgroup limited like a Function Compute instance.
	FC *FCShaped `json:"fc,omitempty"`
}

// FCShaped is what the FC-shaped runs measured, or why they were skipped.
type FCShaped struct {
	Cgroup  string   `json:"cgroup"`            // "cgroup v1", "cgroup v2"
	Skipped string   `json:"skipped,omitempty"` // why the runs were not made
	Sizes   []FCSize `json:"sizes"`
	Relays  []string `json:"relays"` // names, in the order they took turns
	// Burst is the webhooks of a burst; Warm those sent one at a time
	// after it.
	Burst int     `json:"burst"`
	Warm  int     `json:"warm"`
	Runs  []FCRun `json:"runs"`
}

// FCSize is an instance size: vCPU (a CPU quota per 100 ms period) and
// memory.
type FCSize struct {
	VCPU     float64 `json:"vcpu"`
	MemoryMB int     `json:"memory_mb"`
}

// FCRun is one fresh process of one relay in the cgroup: its cold start to
// the first webhook's answer, a burst, then webhooks one at a time.
type FCRun struct {
	Relay    string  `json:"relay"`
	Projects int     `json:"projects"`
	VCPU     float64 `json:"vcpu"`
	MemoryMB int     `json:"memory_mb"`
	Round    int     `json:"round"`
	// ColdMS is from exec to the answer of the first webhook, sent as soon
	// as the port accepts (after FC's /initialize for the relay); ColdCPUMS
	// the CPU time the process used until then.
	ColdMS     float64 `json:"cold_ms"`
	ColdCPUMS  float64 `json:"cold_cpu_ms"`
	ColdStatus int     `json:"cold_status"`
	// BurstMS is each burst webhook's answer time since the burst was
	// sent (all at once), in the order sent; -1 when none came.
	BurstMS     []float64      `json:"burst_ms"`
	BurstStatus map[string]int `json:"burst_status"`
	BurstCPUMS  float64        `json:"burst_cpu_ms"`
	// WarmMS is each one-at-a-time webhook's answer time.
	WarmMS []float64 `json:"warm_ms"`
	// CPUPerHookUS is the process's CPU time over the one-at-a-time
	// webhooks, per webhook.
	CPUPerHookUS float64 `json:"cpu_per_webhook_us"`
	// Hooks is the run's webhooks; Once those the stand-in took exactly
	// one message of, Extra the messages beyond one.
	Hooks     int   `json:"hooks"`
	Once      int   `json:"once"`
	Extra     int   `json:"extra_messages"`
	PeakRSSKB int64 `json:"peak_rss_kb"`
	// Throttled is how many 100 ms periods the quota ran out in.
	Throttled int64  `json:"throttled_periods"`
	Error     string `json:"error,omitempty"`
}

// BurstWithin counts the burst's webhooks answered 200 or 202 within d
// milliseconds.
func (r *FCRun) BurstWithin(ms float64) int {
	n := 0
	for _, v := range r.BurstMS {
		if v >= 0 && v <= ms {
			n++
		}
	}
	return n
}

// BurstLastMS is when the burst's last answer came (-1 when one never did).
func (r *FCRun) BurstLastMS() float64 {
	last := 0.0
	for _, v := range r.BurstMS {
		if v < 0 {
			return -1
		}
		last = max(last, v)
	}
	return last
}

// Select returns the FC-shaped runs of relay with projects on size.
func (f *FCShaped) Select(relay string, projects int, size FCSize) []FCRun {
	if f == nil {
		return nil
	}
	var out []FCRun
	for _, x := range f.Runs {
		if x.Relay == relay && x.Projects == projects && x.VCPU == size.VCPU && x.MemoryMB == size.MemoryMB {
			out = append(out, x)
		}
	}
	return out
}

// Machine describes where it ran.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Date      string `json:"date"`
	Load      string `json:"load_before"` // /proc/loadavg at the start
	LoadAfter string `json:"load_after"`  // and at the end
}

// Settings are the parameters of the runs.
type Settings struct {
	N            int      `json:"n"`      // webhooks per run at concurrency C
	NSerial      int      `json:"n_one"`  // webhooks per one-at-a-time run
	Warm         int      `json:"warm"`   // warm-up webhooks before each run, not measured
	C            int      `json:"c"`      // concurrency of the throughput runs
	Rounds       int      `json:"rounds"` // repetitions of every run
	MaxTimeS     float64  `json:"max_time_s"`
	Projects     int      `json:"projects"` // projects (one robot each) of the load document
	DocBytes     int      `json:"doc_bytes"`
	SmallDocs    int      `json:"small_projects"` // projects of the typical team's document
	Payloads     []string `json:"payloads"`
	RobotLatency string   `json:"robot_latency"`
	FirstID      int64    `json:"first_id"` // the first webhook id of the invocation
	LastID       int64    `json:"last_id"`  // the last one
}

// Relay is one relay binary measured.
type Relay struct {
	Name string `json:"name"` // "current", or the baseline's revision
	Path string `json:"path"`
}

// Sizes of the Function Compute package.
type Sizes struct {
	ZipBytes       int64 `json:"zip_bytes"`
	BootstrapBytes int64 `json:"bootstrap_bytes"`
}

// ColdStart is the time from exec to the first 200 on GET / of one relay
// with one document.
type ColdStart struct {
	Relay        string    `json:"relay"`
	Store        string    `json:"store"`
	Projects     int       `json:"projects"`
	DocBytes     int       `json:"doc_bytes"`
	Runs         int       `json:"runs"`
	MedianMS     float64   `json:"median_ms"`
	MinMS        float64   `json:"min_ms"`
	MaxMS        float64   `json:"max_ms"`
	IdleRSSKB    int64     `json:"idle_rss_kb"` // median VmRSS right after the first answer
	SamplesMS    []float64 `json:"samples_ms"`
	IdleRSSAllKB []int64   `json:"idle_rss_all_kb"`
}

// Systems a run measures.
const (
	Direct = "direct" // the load client posting robot messages straight to the stand-in
	Relays = "relay"  // the load client posting webhooks to a relay, which posts to the stand-in
	Storm  = "storm"  // a relay taking more than its robots' budgets allow
)

// Run is one load run.
type Run struct {
	System  string `json:"system"`          // Direct, Relays or Storm
	Relay   string `json:"relay,omitempty"` // which relay (Relay.Name); "" for Direct
	Store   string `json:"store"`           // "oss", or "-" for Direct
	C       int    `json:"c"`
	Round   int    `json:"round"`    // 1-based repetition
	FirstID int64  `json:"first_id"` // the run's first webhook id (ids never repeat)

	Sent      int            `json:"sent"`
	OK        int            `json:"ok"`
	Other     map[string]int `json:"other_status,omitempty"`
	Errors    int            `json:"errors"`
	Seconds   float64        `json:"seconds"`
	PerSecond float64        `json:"per_second"`
	Latency   Pcts           `json:"latency_ms"`
	Robot     Pcts           `json:"robot_ms"`      // the stand-in's hold time per webhook
	Overhead  Pcts           `json:"overhead_ms"`   // latency minus robot time
	ToRobot   Pcts           `json:"to_robot_ms"`   // from sending the webhook to its robot request arriving
	FromRobot Pcts           `json:"from_robot_ms"` // from the robot's answer to the webhook's answer
	// MsgsPerHook is the stand-in's count of accepted messages per webhook.
	MsgsPerHook   float64   `json:"messages_per_webhook"`
	Requests      OSSCounts `json:"store_requests"`
	ReadsPerHook  float64   `json:"store_reads_per_webhook"`
	WritesPerHook float64   `json:"store_writes_per_webhook"`
	RobotConns    int64     `json:"robot_connections"`
	CPUPerHookUS  float64   `json:"cpu_per_webhook_us"`
	CPUPercent    float64   `json:"cpu_percent"` // of one core, during the measured phase
	StartMS       float64   `json:"start_ms"`    // this run's cold start
	IdleRSSKB     int64     `json:"idle_rss_kb"`
	PeakRSSKB     int64     `json:"peak_rss_kb"` // VmHWM at the end of the run
	MaxRSSKB      int64     `json:"max_rss_kb"`  // highest VmRSS sampled during the measured phase
	MaxAnonKB     int64     `json:"max_anon_kb"` // RssAnon at that sample (the rest is the binary's pages)
	LogWarns      int       `json:"log_warnings"`
	LogLines      int       `json:"log_lines"` // lines the relay logged during the whole run
	Unkeyed       int64     `json:"unkeyed_messages"`
	Refused       int64     `json:"refused_messages"` // robot requests the stand-in refused
	Note          string    `json:"note,omitempty"`
	Messages      int64     `json:"robot_messages,omitempty"` // storm: messages the robots received during the run
	Spooled       int       `json:"spooled,omitempty"`        // storm: alerts left in the spool after the relay stopped
	LastError     string    `json:"last_error,omitempty"`
}

// Pcts are latency percentiles in milliseconds.
type Pcts struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// OSSCounts are the loopback OSS server's requests by kind.
type OSSCounts struct {
	ConfigGet  int `json:"config_get"`  // GET of <prefix>v1/config.json answered 200
	Config304  int `json:"config_304"`  // conditional GET answered 304 Not Modified
	OtherGet   int `json:"other_get"`   // GET of any other object
	Head       int `json:"head"`        // HEAD (the history log's append position)
	List       int `json:"list"`        // ListObjects (history pruning)
	Put        int `json:"put"`         // PutObject
	Append     int `json:"append"`      // AppendObject (history flushes)
	OtherCalls int `json:"other_calls"` // anything else
}

// Reads is every request that reads the store.
func (c OSSCounts) Reads() int { return c.ConfigGet + c.Config304 + c.OtherGet + c.Head + c.List }

// Writes is every request that writes it.
func (c OSSCounts) Writes() int { return c.Put + c.Append }

// Sub is c minus o, request kind by kind.
func (c OSSCounts) Sub(o OSSCounts) OSSCounts {
	return OSSCounts{c.ConfigGet - o.ConfigGet, c.Config304 - o.Config304, c.OtherGet - o.OtherGet, c.Head - o.Head,
		c.List - o.List, c.Put - o.Put, c.Append - o.Append, c.OtherCalls - o.OtherCalls}
}

// Read reads a report the load tool wrote with -json.
func Read(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Write writes r as indented JSON.
func (r *Report) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Select returns the runs of system (and relay, unless "") at concurrency c,
// in the order they ran.
func (r *Report) Select(system, relay string, c int) []Run {
	if r == nil {
		return nil
	}
	var out []Run
	for _, x := range r.Runs {
		if x.System == system && (relay == "" || x.Relay == relay) && x.C == c {
			out = append(out, x)
		}
	}
	return out
}

// Cold returns the cold starts of relay, smallest document first.
func (r *Report) Cold(relay string) []ColdStart {
	if r == nil {
		return nil
	}
	var out []ColdStart
	for _, c := range r.ColdStart {
		if c.Relay == relay {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b ColdStart) int { return a.Projects - b.Projects })
	return out
}

// Spread is the median of a figure over repeated runs, with its range.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// Of returns the spread of f over runs.
func Of(runs []Run, f func(*Run) float64) Spread {
	if len(runs) == 0 {
		return Spread{}
	}
	v := make([]float64, len(runs))
	for i := range runs {
		v[i] = f(&runs[i])
	}
	return SpreadOf(v)
}

// SpreadOf returns the spread of v (the median of an even count is the
// mean of the middle two).
func SpreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// RelPct is how far the range reaches from the median, in percent of it:
// the noise of the repeats.
func (s Spread) RelPct() float64 {
	if s.Median == 0 {
		return 0
	}
	return 100 * max(s.Max-s.Median, s.Median-s.Min) / s.Median
}
