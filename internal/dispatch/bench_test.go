package dispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
)

// acceptAll is a robot that takes every message at once, in memory, so the
// benchmarks measure the dispatcher's own work.
type acceptAll struct{ n atomic.Int64 }

func (a *acceptAll) Send(context.Context, *config.Robot, *notify.Message) error {
	a.n.Add(1)
	return nil
}

// benchDispatcher returns a dispatcher whose DingTalk robots have a budget
// large enough that nothing waits for it, and whose Resolver does no more
// than the dispatcher needs (the robot, the message or a digest's lines),
// so rendering is not measured.
func benchDispatcher(b *testing.B, spool string) (*Dispatcher, *acceptAll) {
	b.Helper()
	fast := *dingtalk.Kind
	fast.Budget = notify.Budget{Limits: []notify.Limit{{N: 1 << 20, Per: time.Minute}}, Block: time.Minute, DigestItems: 30}
	robots := map[int64]*config.Robot{}
	for id := int64(1); id <= 3; id++ {
		robots[id] = &config.Robot{ID: id, Name: fmt.Sprintf("robot %d", id), Kind: "dingtalk", AccessToken: "t"}
	}
	a := &acceptAll{}
	d, err := New(Options{
		Senders: map[string]notify.Sender{"dingtalk": a},
		Kind:    func(string) *notify.Kind { return &fast },
		Resolve: func(_ context.Context, jobs []*Job) (*config.Robot, *notify.Message, error) {
			if len(jobs) == 1 && jobs[0].Repeats == 0 && jobs[0].Folded == 0 {
				return robots[jobs[0].RobotID], &jobs[0].Message, nil
			}
			items, _, _ := DigestItems(jobs)
			return robots[jobs[0].RobotID], &notify.Message{Title: "digest", Digest: items}, nil
		},
		Policy: notify.Policy{Attempts: 1},
		Spool:  spool,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.Close(context.Background()) })
	return d, a
}

func benchJob(robot int64, issue int) *Job {
	return &Job{RobotID: robot, Kind: "dingtalk", ProjectID: 1, Project: "mall-api", ProjectName: "商城后台",
		Message: notify.Message{Title: "详情 | 商城后台: Error", Heading: fmt.Sprintf("Error #%d", issue),
			Link: fmt.Sprintf("https://acme.sentry.io/issues/%d/", issue), Level: "error", Keyword: "详情"}}
}

// BenchmarkSubmit is one webhook's jobs through Submit, each delivered
// within the request: "one" robot, or "three" robots at once.
func BenchmarkSubmit(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "one", 3: "three"}[n], func(b *testing.B) {
			d, _ := benchDispatcher(b, "")
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				jobs := make([]*Job, n)
				for r := range n {
					jobs[r] = benchJob(int64(r+1), i)
				}
				for _, o := range d.Submit(context.Background(), jobs, time.Now().Add(5*time.Second)) {
					if o.Status != Delivered {
						b.Fatalf("%s %v", o.Status, o.Err)
					}
				}
			}
		})
	}
}

// BenchmarkSubmitParallel submits one job at a time from 50 goroutines to
// three robots: the dispatcher's locks under contention.
func BenchmarkSubmitParallel(b *testing.B) {
	d, _ := benchDispatcher(b, "")
	var n atomic.Int64
	b.SetParallelism(25)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := d.Submit(context.Background(), []*Job{benchJob(1+i%3, int(i))}, time.Now().Add(5*time.Second))
			if o[0].Status != Delivered {
				b.Errorf("%s %v", o[0].Status, o[0].Err)
				return
			}
		}
	})
}

// BenchmarkQueue is 200 alerts queued for one robot (40 issues, five
// alerts each) and drained as digests: repeats merged, batches grouped.
// "memory" keeps the queue in memory, "spool" also writes and removes
// each waiting job's file. ns/op is per 200 alerts.
func BenchmarkQueue(b *testing.B) {
	for _, spooled := range []bool{false, true} {
		name := "memory"
		if spooled {
			name = "spool"
		}
		b.Run(name, func(b *testing.B) {
			dir := ""
			if spooled {
				dir = b.TempDir()
			}
			d, a := benchDispatcher(b, dir)
			b.ReportAllocs()
			for b.Loop() {
				jobs := make([]*Job, 200)
				for i := range jobs {
					jobs[i] = benchJob(1, i%40)
				}
				if err := d.Enqueue(jobs); err != nil {
					b.Fatal(err)
				}
				if err := d.Drain(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			if d.Queued() != 0 || a.n.Load() == 0 {
				b.Fatalf("%d still queued, %d sent", d.Queued(), a.n.Load())
			}
		})
	}
}
