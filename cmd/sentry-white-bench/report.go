package main

// The load tool's -json output (cmd/sentry-white-load, type Report); only
// the members the report uses.

type Report struct {
	Machine   Machine     `json:"machine"`
	Settings  Settings    `json:"settings"`
	Sizes     *Sizes      `json:"sizes,omitempty"`
	ColdStart []ColdStart `json:"cold_start"`
	Runs      []Run       `json:"runs"`
}

type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Date      string `json:"date"`
	Load      string `json:"load_before"`
}

type Settings struct {
	N            int      `json:"n"`
	Warm         int      `json:"warm"`
	Levels       []int    `json:"levels"`
	MaxTimeS     float64  `json:"max_time_s"`
	Projects     int      `json:"projects"`
	DocBytes     int      `json:"doc_bytes"`
	Payloads     []string `json:"payloads"`
	RobotLatency string   `json:"robot_latency"`
	SeedProjects int      `json:"seed_projects"`
}

type Sizes struct {
	ZipBytes       int64 `json:"zip_bytes"`
	BootstrapBytes int64 `json:"bootstrap_bytes"`
}

type ColdStart struct {
	Projects  int     `json:"projects"`
	DocBytes  int     `json:"doc_bytes"`
	Runs      int     `json:"runs"`
	MedianMS  float64 `json:"median_ms"`
	MinMS     float64 `json:"min_ms"`
	MaxMS     float64 `json:"max_ms"`
	IdleRSSKB int64   `json:"idle_rss_kb"`
}

type Run struct {
	System        string         `json:"system"`
	Store         string         `json:"store"`
	History       bool           `json:"history"`
	C             int            `json:"c"`
	Rate          float64        `json:"rate"`
	Sent          int            `json:"sent"`
	OK            int            `json:"ok"`
	Other         map[string]int `json:"other_status"`
	Errors        int            `json:"errors"`
	PerSecond     float64        `json:"per_second"`
	Latency       Pcts           `json:"latency_ms"`
	Robot         Pcts           `json:"robot_ms"`
	Overhead      Pcts           `json:"overhead_ms"`
	ToRobot       Pcts           `json:"to_robot_ms"`
	FromRobot     Pcts           `json:"from_robot_ms"`
	MsgsPerHook   float64        `json:"messages_per_webhook"`
	Requests      OSSCounts      `json:"store_requests"`
	ReadsPerHook  float64        `json:"store_reads_per_webhook"`
	WritesPerHook float64        `json:"store_writes_per_webhook"`
	RobotConns    int64          `json:"robot_connections"`
	CPUPerHookUS  float64        `json:"cpu_per_webhook_us"`
	CPUPercent    float64        `json:"cpu_percent"`
	StartMS       float64        `json:"start_ms"`
	IdleRSSKB     int64          `json:"idle_rss_kb"`
	PeakRSSKB     int64          `json:"peak_rss_kb"`
	MaxRSSKB      int64          `json:"max_rss_kb"`
	MaxAnonKB     int64          `json:"max_anon_kb"`
	LogWarns      int            `json:"log_warnings"`
	Note          string         `json:"note"`
	Messages      int64          `json:"robot_messages"`
	Spooled       int            `json:"spooled"`
}

type Pcts struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type OSSCounts struct {
	ConfigGet int `json:"config_get"`
	Config304 int `json:"config_304"`
	OtherGet  int `json:"other_get"`
	Head      int `json:"head"`
	List      int `json:"list"`
	Put       int `json:"put"`
	Append    int `json:"append"`
}

func (c OSSCounts) Reads() int { return c.ConfigGet + c.Config304 + c.OtherGet + c.Head + c.List }

// find returns the first run matching, or nil.
func (r *Report) find(system, store string, c int, paced, history bool) *Run {
	if r == nil {
		return nil
	}
	for i := range r.Runs {
		x := &r.Runs[i]
		if x.System == system && (store == "" || x.Store == store) && x.C == c && (x.Rate > 0) == paced &&
			(system != "relay" || x.History == history) {
			return x
		}
	}
	return nil
}
