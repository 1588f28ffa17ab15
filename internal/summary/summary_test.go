package summary

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// registry is the robot kinds of the programs.
var registry = notifiers.Default()

const docFmt = `{"schema": 1, "webhook_token": "tok",
 "organizations": [{"id": 1, "name": "acme", "slug": "acme", "sentry_url": "https://acme.sentry.io"}],
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}],
 "robots": [{"id": 1, "name": "研发群", "kind": %q, "access_token": "t1", "keyword": "详情",
             "daily_digest": {"at": "09:30", "timezone": "Asia/Shanghai"}}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "organization_id": 1, "owner_ids": [1], "robot_ids": [1]},
              {"id": 2, "name": "官网", "slug": "site", "organization_id": 1, "owner_ids": [1], "robot_ids": [1]}]}`

func index(t *testing.T, kind string) *config.Index {
	t.Helper()
	d, err := config.Parse(fmt.Appendf(nil, docFmt, kind), registry.Document())
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

// recordedDay writes testdata/day.jsonl, a recorded day of deliveries, into
// a store's history (one object per UTC day, as the relay writes it), and
// an acknowledgement of issue 101 (an action link, in the afternoon).
func recordedDay(t *testing.T) Sources {
	t.Helper()
	b := store.NewFile(t.TempDir())
	raw, err := os.ReadFile(filepath.Join("testdata", "day.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]*bytes.Buffer{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var r deliveries.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		day := r.Time.UTC().Format("2006-01-02")
		if days[day] == nil {
			days[day] = &bytes.Buffer{}
		}
		days[day].Write(sc.Bytes())
		days[day].WriteByte('\n')
	}
	for day, buf := range days {
		if _, err := b.Put(context.Background(), "api/v1/deliveries/"+day+".jsonl", buf.Bytes(), nil); err != nil {
			t.Fatal(err)
		}
	}
	acks := escalate.Store{B: b, Prefix: "api/"}
	if err := acks.Acknowledge(context.Background(), 1, "101", escalate.Acknowledgement{At: time.Date(2026, 12, 14, 6, 0, 0, 0, time.UTC),
		Kind: escalate.AckAction, By: "张三"}); err != nil {
		t.Fatal(err)
	}
	return Sources{History: deliveries.New(b, "api/", nil), Acks: acks}
}

// morning is the summary's time: 2026-12-15 09:30 in Shanghai.
var morning = time.Date(2026, 12, 15, 1, 30, 0, 0, time.UTC)

func build(t *testing.T, src Sources, x *config.Index, lang string) *render.DaySummary {
	t.Helper()
	from, to, due, err := Window(x.Robot(1).DailyDigest, morning)
	if err != nil {
		t.Fatal(err)
	}
	if !due.Equal(morning) || !from.Equal(time.Date(2026, 12, 13, 16, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("window %v – %v due %v", from, to, due)
	}
	d, err := Build(context.Background(), src, x, x.Robot(1), from, to, morning, lang)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSummaryOfARecordedDay: the facts of a recorded day — the day's
// alerts to the robot (not the day before, not this morning, not another
// robot's), per project with its issues, new and regressed, and
// escalations; the alert held overnight once; the failure nobody re-sent;
// the issues still open (not the one resolved, the one an action link took
// marked so).
func TestSummaryOfARecordedDay(t *testing.T) {
	x := index(t, "dingtalk")
	d := build(t, recordedDay(t), x, "zh")
	if len(d.Projects) != 2 {
		t.Fatalf("projects %+v", d.Projects)
	}
	mall, site := d.Projects[0], d.Projects[1]
	if mall.Slug != "mall" || mall.Alerts != 6 || mall.Issues != 3 || mall.New != 1 || mall.Regressed != 1 || mall.Escalations != 1 {
		t.Errorf("mall %+v", mall)
	}
	if len(mall.Top) != 3 || mall.Top[0].Count != 3 || !strings.HasPrefix(mall.Top[0].Title, "TypeError") || mall.Top[1].Count != 2 {
		t.Errorf("mall's top issues %+v", mall.Top)
	}
	if site.Alerts != 1 || site.Issues != 1 || site.New != 1 || d.Held != 1 {
		t.Errorf("site %+v, held %d", site, d.Held)
	}
	if len(d.Failed) != 1 || d.Failed[0].Title != "KeyError: 'sku'" || !strings.HasPrefix(d.Failed[0].Note, "310000 ") {
		t.Errorf("failed %+v", d.Failed)
	}
	var open []string
	for _, u := range d.Unresolved {
		open = append(open, u.Title+"|"+u.Note)
	}
	want := "TypeError: Cannot read properties of undefined (reading 'items')|有人跟进,KeyError: 'sku'|,NotFound: /about|"
	if strings.Join(open, ",") != want {
		t.Errorf("unresolved:\n got %s\nwant %s", strings.Join(open, ","), want)
	}
}

// TestSummaryGolden: the summary of the recorded day as each kind's robot
// receives it (its request body, unsigned), in Chinese, and once in
// English. -update rewrites testdata/*.golden.
func TestSummaryGolden(t *testing.T) {
	src := recordedDay(t)
	for _, c := range []struct{ kind, lang string }{{"dingtalk", "zh"}, {"wecom", "zh"}, {"feishu", "zh"}, {"dingtalk", "en"}} {
		t.Run(c.kind+"-"+c.lang, func(t *testing.T) {
			x := index(t, c.kind)
			k := registry.Lookup(c.kind)
			m := Message(build(t, src, x, c.lang), x.Robot(1), k, c.lang)
			if !k.Fits(m) {
				t.Fatal("the summary does not fit")
			}
			bodies, err := k.Requests(m)
			if err != nil {
				t.Fatal(err)
			}
			notifytest.Golden(t, filepath.Join("testdata", c.kind+"-"+c.lang+".golden"), notifytest.Bodies(bodies...), *update)
		})
	}
}

// TestSummaryFitsWholeLines: a day too big for a robot loses whole lines
// from the end, the last line saying how many; every line sent is whole;
// the day's counts come first and stay.
func TestSummaryFitsWholeLines(t *testing.T) {
	d := &render.DaySummary{Day: time.Date(2026, 12, 14, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	for p := range 6 {
		pd := render.ProjectDay{Name: fmt.Sprintf("项目%d", p), Slug: fmt.Sprintf("p%d", p), Alerts: 40, Issues: 12, New: 3}
		for i := range TopPerProject {
			pd.Top = append(pd.Top, render.SummaryIssue{Title: strings.Repeat("很长的错误标题", 8) + fmt.Sprint(i), Count: 9,
				Link: fmt.Sprintf("https://acme.sentry.io/issues/%d%d/?query=is%%3Aunresolved&referrer=a-long-referrer-value", p, i)})
		}
		d.Projects = append(d.Projects, pd)
	}
	for i := range MaxListed {
		d.Unresolved = append(d.Unresolved, render.SummaryIssue{Project: "项目1", Title: strings.Repeat("未解决的问题", 10) + fmt.Sprint(i),
			Link: fmt.Sprintf("https://acme.sentry.io/issues/9%d/", i), Count: 2})
		d.Failed = append(d.Failed, render.SummaryIssue{Project: "项目2", Title: "发送失败的告警" + fmt.Sprint(i), Note: "310000 keywords"})
	}
	for _, kind := range []string{"dingtalk", "wecom", "feishu"} {
		x := index(t, kind)
		k := registry.Lookup(kind)
		full := render.Summary(d, "zh")
		m := Message(d, x.Robot(1), k, "zh")
		if !k.Fits(m) {
			t.Errorf("%s: the summary does not fit", kind)
			continue
		}
		if kind == "wecom" {
			last := m.Fields[len(m.Fields)-1]
			n := len(full.Fields) - (len(m.Fields) - 1)
			if last.Label != "更多" || last.Value != fmt.Sprintf("…还有 %d 项", n) || n <= 0 {
				t.Errorf("wecom: the last line is %+v, want …还有 %d 项", last, n)
			}
		}
		for i, f := range m.Fields[:len(m.Fields)-1] {
			if len(m.Fields) < len(full.Fields)+1 && f != full.Fields[i] {
				t.Errorf("%s: line %d changed: %+v, was %+v", kind, i, f, full.Fields[i])
			}
		}
		if m.Fields[0] != full.Fields[0] || !strings.HasPrefix(m.Fields[0].Value, "40 条告警") {
			t.Errorf("%s: the first line %+v", kind, m.Fields[0])
		}
		bodies, err := k.Requests(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(bodies[0]) > 20000 || !bytes.Contains(bodies[0], []byte(m.Fields[len(m.Fields)-2].Value[:12])) {
			t.Errorf("%s: the body does not carry the last whole line", kind)
		}
	}
}

// TestMessageWithoutAKnownSize: a kind that cannot tell its size gets a
// summary well within its limit.
func TestMessageWithoutAKnownSize(t *testing.T) {
	x := index(t, "dingtalk")
	d := build(t, recordedDay(t), x, "zh")
	k := &notify.Kind{Name: "generic", MaxBody: 1200}
	m := Message(d, x.Robot(1), k, "zh")
	if !k.Fits(m) || len(m.Fields) < 2 || m.Fields[len(m.Fields)-1].Label != "更多" {
		t.Errorf("%d lines, last %+v", len(m.Fields), m.Fields[len(m.Fields)-1])
	}
}

// TestSummaryAsksSentry: for an organization with an api_token, what is
// still open is Sentry's word (the Sentry stand-in): an issue the history
// thinks open but Sentry has resolved is left out, one assigned in Sentry
// is marked taken, and one Sentry does not answer for is judged by the
// notifications, which the message says.
func TestSummaryAsksSentry(t *testing.T) {
	const token = "sntrys_summary_token"
	s := sentrytest.New()
	defer s.Close()
	s.AddToken(token, sentrytest.Token{Scopes: []string{"event:read"}})
	mall := sentrytest.IssueProject{ID: "1", Slug: "mall", Name: "mall"}
	s.AddIssue("acme", sentrytest.Issue{ID: "101", Title: "TypeError", Project: mall,
		AssignedTo: &sentrytest.Assignee{Type: "user", ID: "42", Name: "张三"}})
	s.AddIssue("acme", sentrytest.Issue{ID: "103", Title: "KeyError", Project: mall, Status: "resolved"})
	doc := strings.Replace(fmt.Sprintf(docFmt, "dingtalk"), `"sentry_url": "https://acme.sentry.io"`,
		fmt.Sprintf(`"sentry_url": %q, "api_token": %q`, s.URL, token), 1)
	d, err := config.Parse([]byte(doc), registry.Document())
	if err != nil {
		t.Fatal(err)
	}
	x := config.NewIndex(d)
	src := recordedDay(t)
	src.Sentry = &sentryapi.Client{}
	day := build(t, src, x, "zh")
	var open []string
	for _, u := range day.Unresolved {
		open = append(open, u.Title+"|"+u.Note)
	}
	// 101 assigned in Sentry; 103 resolved there; 201 unknown to Sentry (404).
	if want := "TypeError: Cannot read properties of undefined (reading 'items')|有人跟进,NotFound: /about|"; strings.Join(open, ",") != want {
		t.Errorf("still open:\n got %s\nwant %s", strings.Join(open, ","), want)
	}
	if !day.FromSentry || !day.FromNotices {
		t.Errorf("FromSentry %v, FromNotices %v: want both", day.FromSentry, day.FromNotices)
	}
	m := Message(day, x.Robot(1), registry.Lookup("dingtalk"), "zh")
	if !strings.Contains(m.Fields[4].Value, "部分向 Sentry 查询") {
		t.Errorf("the open line does not say where it knows from: %+v", m.Fields[4])
	}
}
