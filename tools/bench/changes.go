package main

// change is one profile-driven change to the relay and the figures
// measured when it was made, as its commit message gives them.
type change struct {
	Commit  string
	Finding string // what the profile showed
	Fix     string
	Figures string // before → after
}

// changesMeasured says how the figures of changes were taken.
const changesMeasured = "Relay CPU per webhook at concurrency 50 / one at a time: every commit's relay built and measured in one " +
	"invocation of the load tool (`-also NAME=PATH`, 3 rounds taking turns, 10,000 and 2,000 webhooks, medians) on 1 December " +
	"2026 at a load average of 5 to 7 from other work on the machine, so single steps move by ±15 %; the Go benchmark figures " +
	"are from the commit messages. The relay of the baseline measured so: 373 / 680 µs."

// changes are the changes since the baseline (defaultBefore), in order.
var changes = []change{
	{"7df3859", "sentry.Parse 16 % of the relay's CPU: encoding/json validated the whole 5 KB body, then decoded it by reflection, every string and tag through an unmarshaller that decoded again",
		"a one-pass decoder of our own reads what the message and the routing need; encoding/json only for bodies it is not sure of, checked equal on every body by tests and fuzzing",
		"373 → 322 µs / 680 → 615 µs; Parse/legacy 32.5 → 7.2 µs, 108 → 51 allocations"},
	{"cd2358d", "dingtalk.Body 8 % of CPU and 15 % of bytes allocated: a struct through encoding/json, the text through fmt, the URL parsed and its query sorted per message",
		"the request written straight into bytes (the same bytes), the endpoint parsed once, DingTalk's usual answer read without a decoder",
		"322 → 303 µs / 615 → 585 µs; Send/memory 123 → 72 allocations"},
	{"62c4907", "two JSON log lines per webhook through log.With chains (slog 5 %), a new body buffer (4 % of bytes), a map for the query, a map for the answer, crypto/rand for ids",
		"one log line per webhook, the body in a pooled buffer, the token found without the map, the answer a struct, ids from the runtime's generator",
		"303 → 227 µs / 585 → 550 µs; Handler/legacy/memory 401 → 225 allocations (with the two above)"},
	{"5ff9e5d", "fmt.Sprintf(\"robot %d\") boxed on every record (80 % of Record's CPU); Escape 60 % of the message text, copying every value",
		"the fallback name made only when needed; strings joined with +; Escape returns text without markup as it is",
		"227 → 237 µs / 550 → 515 µs"},
	{"6eabed8", "strconv.syntaxError 1.4 % of allocations: every ISO time tried as a number first; strings scanned byte by byte",
		"no number parse of a time with a colon; strings scanned eight bytes at a time",
		"237 → 277 µs (noise) / 515 → 535 µs"},
	{"ef53119", "the document cache's mutex per webhook; json.Marshal per delivery record (history 2 % of CPU)",
		"the document read without a lock inside its window; history lines written without reflection (the same bytes)",
		"277 → 249 µs / 535 → 560 µs"},
	{"2e103bb", "internal/config's init 8 ms of the cold start and 1 MB of heap (regular expressions with counted repetitions); 137,300 allocations to parse the load document (each object decoded twice)",
		"validators without regular expressions (the same strings accepted); unknown members found by a scan instead of a second decode",
		"249 → 247 µs; cold start with 1,139 projects 69 → 52 ms, idle RSS 9.7 → 8.7 MB; 98,500 allocations to parse"},
	{"4636a82", "Submit took the dispatcher's mutex to learn it had started; the robot client asked for gzip",
		"an atomic flag; no Accept-Encoding for answers of a few dozen bytes",
		"247 → 218 µs / 540 → 560 µs"},
	{"265c828", "with two Ps every hand-off between a webhook's goroutines woke a thread (futex wake-ups, spinning): most of the CPU of a webhook one at a time",
		"one CPU thread for Go code unless GOMAXPROCS says otherwise",
		"218 → 219 µs / 560 → 340 µs, overhead p50 0.54 → 0.39 ms; 244 → 202 µs at 50 in a direct A/B of the same binary"},
	{"1e634a6", "io.ReadAll's 512 bytes for every robot answer; the history flush buffer grown by doubling (3 % of bytes each)",
		"the answer read into 64 bytes; the flush buffer sized for its records",
		"219 → 192 µs / 340 → 320 µs"},
	{"33ac378", "after internal/config, notify's and feishu's regular expressions were the largest package inits (0.4-0.9 ms each, GODEBUG=inittrace=1)",
		"the error-path expressions compiled on first use",
		"about 1 ms less to the first answer (from the init trace; below the cold start's noise)"},
	{"6503637", "on FC every webhook flushes the history before its answer: concurrent webhooks queued one OSS append each",
		"flushes take turns and write together what waited",
		"three flushes meeting one under way: 3 → 2 appends (not seen by this load, which runs as a server)"},
	{"229e178", "one at a time, the webhook's log line (formatting, a write to stdout) sat between the robot's answer and Sentry's",
		"the answer (with its Content-Length) flushed first, the line after",
		"overhead p50 one at a time 0.375 → 0.347 ms (same binary otherwise, 5 rounds)"},
}
