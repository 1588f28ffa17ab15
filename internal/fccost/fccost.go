// Package fccost prices the relay on Aliyun Function Compute 3.0 for an
// account on the mainland China site, in yuan, under the billing rules in
// force since 2025-12-09: the compute units (CU) of each function and hour,
// rounded up, cost at least ¥0.01 in an hour with a call, and an instance is
// billed for a minute after its last request.
//
// The instance size is set in one place, deploy/s.yaml (ParseSize reads
// it); the deploy guide's cost table (Table) and the cost section of
// BENCHMARKS.md are computed from it, and a test keeps the guide's table in
// step with the file. TimedRequests counts the OSS requests escalation and
// the morning summary add (OSS bills them, at OSS's request fee).
package fccost

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Prices and rules, as read on Read from the pages named below.
const (
	// Read is the day the prices and rules below were read.
	Read = "2026-12-07"

	// BillingURL is FC's billing overview (计费概述): the CU price in
	// tiers, the hourly billing cycle, CU rounded up per function and
	// hour, the trial allowance.
	BillingURL = "https://help.aliyun.com/zh/functioncompute/fc/product-overview/billing-overview-of-fc"
	// FactorsURL lists the CU conversion factors of FC 3.0.
	FactorsURL = "https://www.alibabacloud.com/help/tc/functioncompute/fc-3-0/product-overview/pay-as-you-go-billing-method-1"
	// ChangeURL announces the hourly floor and the one-minute release
	// delay (【产品变更】关于优化函数计费模式的说明).
	ChangeURL = "https://help.aliyun.com/zh/functioncompute/fc/product-overview/product-change-description-on-optimizing-function-billing-mode"

	// YuanPerCU is the list price of tier 1 (up to 200 million CU a
	// month). The discounted ¥0.000088 ran from 2024-08-27 to 2026-08-27.
	YuanPerCU = 0.00011
	// DiscountEnded is the last day of the discounted CU price.
	DiscountEnded = "2026-08-27"

	CUPerCall         = 75.0 / 10000 // each invocation, lifecycle hooks included
	CUPerVCPUSecond   = 1.0          // an active vCPU; an idle one costs nothing
	CUPerGBSecond     = 0.15         // memory, for the whole time an instance lives
	CUPerDiskGBSecond = 0.05         // disk beyond FreeDiskMB

	// FreeDiskMB is the disk every instance has without a disk charge.
	// The factor above is on FactorsURL; that the first 512 MB are not
	// billed was not on the pages read.
	FreeDiskMB = 512

	// HourFloor is what an hour with a call (or an instance holding
	// resources) costs at least, per function, since FloorSince.
	HourFloor  = 0.01
	FloorSince = "2025-12-09"
	// TailSeconds is how long an instance started by requests is kept,
	// and billed (memory; vCPU only while it is active), after its last
	// request, since FloorSince.
	TailSeconds = 60

	// DaysInMonth is the month the table adds up: 30 days, 720 hours
	// (a 31-day month has 744).
	DaysInMonth = 30
)

// What the relay does in an hour, from BENCHMARKS.md and assumptions.
const (
	// WebhookCPUSeconds is the relay's CPU per webhook one at a time
	// (BENCHMARKS.md, make bench on 2026-12-02, commit ddcfc26: 344 µs).
	WebhookCPUSeconds = 344e-6
	// RobotSeconds is how long a robot takes to answer (an assumption:
	// the benchmarks' stand-in answers at once).
	RobotSeconds = 0.1
	// InitializeSeconds and PreStopSeconds are how long the lifecycle
	// hooks run: /initialize reads the document, /pre-stop writes the
	// delivery history (assumptions; neither is measured on FC).
	InitializeSeconds = 0.5
	PreStopSeconds    = 0.2
	// TickSeconds is how long one tick of a timer trigger runs (an
	// assumption: a check of the document and of what is due).
	TickSeconds = 0.1
)

// Size is a function's instance size.
type Size struct {
	VCPU     float64
	MemoryMB int
	DiskMB   int
}

func (s Size) String() string {
	return fmt.Sprintf("%s vCPU, %d MB memory, %d MB disk", strconv.FormatFloat(s.VCPU, 'f', -1, 64), s.MemoryMB, s.DiskMB)
}

// ParseSize reads the instance size (cpu, memorySize, diskSize) from the
// text of an fc3 s.yaml.
func ParseSize(yaml string) (Size, error) {
	var s Size
	num := func(key string) (float64, error) {
		m := regexp.MustCompile(`(?m)^\s*` + key + `:\s*([0-9.]+)\s*(#.*)?$`).FindStringSubmatch(yaml)
		if m == nil {
			return 0, fmt.Errorf("s.yaml sets no %s", key)
		}
		return strconv.ParseFloat(m[1], 64)
	}
	var err error
	if s.VCPU, err = num("cpu"); err != nil {
		return Size{}, err
	}
	mem, err := num("memorySize")
	if err != nil {
		return Size{}, err
	}
	disk, err := num("diskSize")
	if err != nil {
		return Size{}, err
	}
	s.MemoryMB, s.DiskMB = int(mem), int(disk)
	if s.VCPU <= 0 || s.MemoryMB <= 0 || s.DiskMB <= 0 {
		return Size{}, fmt.Errorf("s.yaml: cpu %g, memorySize %d, diskSize %d: each must be above 0", s.VCPU, s.MemoryMB, s.DiskMB)
	}
	return s, nil
}

// Hour is a function's use in one hour.
type Hour struct {
	Calls  float64 // invocations: webhooks, hooks, hand-offs, timer ticks
	Active float64 // seconds an instance spent serving them (vCPU billed)
	Alive  float64 // seconds instances lived, the minute after the last request included (memory billed)
}

// CU is the hour's compute units before rounding.
func (s Size) CU(h Hour) float64 {
	disk := math.Max(0, float64(s.DiskMB-FreeDiskMB)) / 1024
	return h.Calls*CUPerCall + h.Active*s.VCPU*CUPerVCPUSecond +
		h.Alive*(float64(s.MemoryMB)/1024*CUPerGBSecond+disk*CUPerDiskGBSecond)
}

// Usage is what the hour's CU cost without the floor: the CU rounded up to
// a whole unit, at YuanPerCU. An hour without a call costs nothing.
func (s Size) Usage(h Hour) float64 {
	if h.Calls == 0 && h.Alive == 0 {
		return 0
	}
	return math.Ceil(s.CU(h)-1e-9) * YuanPerCU
}

// Bill is what the hour costs: its usage, and at least HourFloor.
func (s Size) Bill(h Hour) float64 {
	u := s.Usage(h)
	if u == 0 {
		return 0
	}
	return math.Max(u, HourFloor)
}

// Webhook is one webhook's use of an instance that is already running.
func (s Size) Webhook() Hour {
	t := WebhookCPUSeconds/s.VCPU + RobotSeconds
	return Hour{Calls: 1, Active: t, Alive: t}
}

// Start is what starting an instance adds: the /initialize and /pre-stop
// hooks, billed like any invocation.
func (s Size) Start() Hour {
	t := InitializeSeconds + PreStopSeconds
	return Hour{Calls: 2, Active: t, Alive: t}
}

func (h Hour) plus(o Hour) Hour {
	return Hour{Calls: h.Calls + o.Calls, Active: h.Active + o.Active, Alive: h.Alive + o.Alive}
}

func (h Hour) times(n float64) Hour {
	return Hour{Calls: h.Calls * n, Active: h.Active * n, Alive: h.Alive * n}
}

// alone is work done by an instance started for it: the hooks, the work,
// and the minute after it.
func (s Size) alone(work Hour) Hour {
	h := s.Start().plus(work)
	h.Alive += TailSeconds
	return h
}

// Throughout is an hour in which one instance lives throughout, serving
// work: its requests come closer together than TailSeconds.
func Throughout(work Hour) Hour {
	work.Alive = 3600
	return work
}

// Case is one line of the cost table: a workload over a month of
// DaysInMonth days.
type Case struct {
	ZH, EN string
	Hours  int  // billed hours in the month
	Hour   Hour // the use in each of them
}

// Month is what the case costs in a month, and what it would cost without
// the hourly floor.
func (s Size) Month(c Case) (bill, usage float64) {
	return float64(c.Hours) * s.Bill(c.Hour), float64(c.Hours) * s.Usage(c.Hour)
}

// Cases are the workloads of the guide's cost table.
func (s Size) Cases() []Case {
	const days = DaysInMonth
	busyPerHour := 10000.0 / 24
	tick := Hour{Calls: 1, Active: TickSeconds, Alive: TickSeconds}
	return []Case{
		{
			ZH:    "安静的团队：每天 10 条告警，各在不同的小时；每条启动一个实例（/initialize、webhook、/pre-stop 三次调用）",
			EN:    "a quiet team: 10 alerts a day, each in an hour of its own; each starts an instance (/initialize, the webhook, /pre-stop: three calls)",
			Hours: 10 * days, Hour: s.alone(s.Webhook()),
		},
		{
			ZH:    "繁忙的团队：每天 10,000 条告警，全天均匀（每小时约 417 条，实例一直不停）",
			EN:    "a busy team: 10,000 alerts a day, spread over the day (about 417 an hour; the instance never stops)",
			Hours: 24 * days, Hour: Throughout(s.Webhook().times(busyPerHour)),
		},
		{
			ZH:    "定时触发器每 1 分钟（deploy/s.yaml：值班交接通知、免打扰摘要），没有告警",
			EN:    "a timer trigger every minute (deploy/s.yaml: on-call handoff notices, quiet-hours digests), no alerts",
			Hours: 24 * days, Hour: Throughout(tick.times(60)),
		},
		{
			ZH:    "定时触发器每 5 分钟，没有告警（每次都启动实例；交接通知和摘要最多晚 5 分钟）",
			EN:    "a timer trigger every 5 minutes, no alerts (each tick starts an instance; notices and digests up to 5 minutes late)",
			Hours: 24 * days, Hour: s.alone(tick).times(12),
		},
	}
}

// FloorUpTo is how many webhooks an hour in which the instance lives
// throughout can carry before its usage passes the floor.
func (s Size) FloorUpTo() int {
	base := s.CU(Throughout(Hour{}))
	w := s.Webhook()
	per := s.CU(Hour{Calls: w.Calls, Active: w.Active}) // its memory is in base
	return int((HourFloor/YuanPerCU - base) / per)
}

// Table is the guide's cost table for size, in Chinese and English.
func Table(s Size) string {
	var b strings.Builder
	fmt.Fprintf(&b, "实例规格 / instance size (deploy/s.yaml): %s. 每月按 %d 天 / a month of %d days.\n\n", s, DaysInMonth, DaysInMonth)
	b.WriteString("| 情形 / case | 计费小时每月 / billed hours a month | 每小时用量 / use an hour | 每小时费用 / an hour costs | 每月 / a month | 没有每小时下限时 / without the hourly floor |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, c := range s.Cases() {
		bill, usage := s.Month(c)
		fmt.Fprintf(&b, "| %s / %s | %d | %s CU | ¥%.2f | **¥%.2f** | ¥%.2f |\n",
			c.ZH, c.EN, c.Hours, cu(s.CU(c.Hour)), s.Bill(c.Hour), bill, usage)
	}
	st := s.Start()
	fmt.Fprintf(&b, "| 生命周期回调：每次实例启动多两次调用 / lifecycle hooks: two more calls per instance start | – | %s CU | ¥%.6f（在已付 ¥%.2f 下限的小时里不另收 / nothing more in an hour that pays the ¥%.2f floor） | – | – |\n",
		cu(s.CU(st)), s.CU(st)*YuanPerCU, HourFloor, HourFloor)
	fmt.Fprintf(&b, "\n每小时 ¥%.2f 的下限：实例整小时都在时，约 %s 条告警以内都只付下限。/ The ¥%.2f floor: an hour in which the instance lives throughout pays only the floor up to about %s alerts.\n",
		HourFloor, group(s.FloorUpTo()), HourFloor, group(s.FloorUpTo()))
	perDay, month := TimedRequests(20, 3)
	fmt.Fprintf(&b, "\n升级与早间摘要不增加调用：它们在定时触发器的调用里运行，没有到期的工作时只读缓存的配置；项目配置了升级时每 5 分钟列举一次升级（OSS 每天 %d 次请求），"+
		"每个升级三步的问题约 %d 次请求，每个机器人的早间摘要每天约 %d 次。每天 20 个问题升级、3 个机器人收摘要：每天约 %s 次 OSS 请求，每月约 ¥%.2f（OSS 请求费，不是 FC 的费用）。"+
		"/ Escalation and the morning summary add no calls: they run in the timer trigger's calls, which read only the cached document when nothing is due; "+
		"while a project escalates, the chains are listed every 5 minutes (%d OSS requests a day), an issue escalated through three steps takes about %d requests, "+
		"a robot's morning summary about %d a day. 20 issues escalated a day and 3 robots with a summary: about %s OSS requests a day, about ¥%.2f a month (OSS's request fee, not FC's).\n",
		EscalationRelookPerDay, RequestsPerEscalation, RequestsPerSummary, group(perDay), month,
		EscalationRelookPerDay, RequestsPerEscalation, RequestsPerSummary, group(perDay), month)
	return b.String()
}

// OSS requests: the timed work's store calls are billed by OSS, not FC.
const (
	// OSSRequestsURL is OSS's request fees (请求费用): PUT-type requests
	// (PutObject, DeleteObject, and listing, ListObjects) and GET-type
	// (GetObject) cost ¥0.01 per 10,000 each on standard storage; a request
	// answered 4xx or 5xx (a create-if-absent claim that finds the object,
	// 409) is not billed.
	OSSRequestsURL         = "https://www.alibabacloud.com/help/zh/oss/api-operation-calling-fees"
	YuanPer10kOSSRequests  = 0.01
	EscalationRelookPerDay = 24 * 60 / 5 // a list of the chains every 5 minutes while a project escalates
	// RequestsPerEscalation is an issue's escalation through three steps
	// to one robot: the chain written by the webhook, read once by the
	// tick, per step the acknowledgements listed, the claim created and
	// marked done, the history appended (a read and a write), and the end
	// marked.
	RequestsPerEscalation = 1 + 1 + 3*(1+2+2) + 1
	// RequestsPerSummary is one robot's morning summary: its claim created
	// and marked done, the history listed and two days read, the
	// acknowledgements of one organization listed.
	RequestsPerSummary = 2 + 1 + 2 + 1
	// RequestsPerDayFixed: the last issue webhook of an organization
	// recorded at most hourly, and the daily pruning's two lists.
	RequestsPerDayFixed = 24 + 2
)

// TimedRequests is how many OSS requests a day escalation and the morning
// summary add: issues escalated a day through three steps, and robots
// with a summary; and what a month of them costs.
func TimedRequests(issues, robots int) (perDay int, yuanPerMonth float64) {
	perDay = EscalationRelookPerDay + RequestsPerDayFixed + issues*RequestsPerEscalation + robots*RequestsPerSummary
	return perDay, float64(perDay*DaysInMonth) / 10000 * YuanPer10kOSSRequests
}

// cu formats compute units with two decimals.
func cu(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// group formats n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
