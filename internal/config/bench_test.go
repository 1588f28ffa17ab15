package config

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchDoc is a team's document of n projects in one organization, each
// with two owners (given mobiles as people type them) and its own signed
// robot, as the load tool makes it.
func benchDoc(b *testing.B, n int) []byte {
	b.Helper()
	d := &Document{Schema: SchemaVersion, WebhookToken: "load-webhook-token",
		Organizations: []Organization{{ID: 1, Name: "公司主账号", SentryURL: "https://sentry.io", Slug: "acme", Account: "viewer@acme.com", Password: "shared-login"}}}
	for i := range n {
		id := int64(i + 1)
		d.Owners = append(d.Owners, Owner{ID: id, Name: fmt.Sprintf("负责人%d", i), Mobile: fmt.Sprintf("+86 138 %04d %04d", i/10000, i%10000)})
		d.Robots = append(d.Robots, Robot{ID: id, Name: fmt.Sprintf("告警群%d", i), AccessToken: Secret(fmt.Sprintf("load-robot-%05d", i)),
			Secret: "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d", Keyword: "详情"})
		d.Projects = append(d.Projects, Project{ID: id, Name: fmt.Sprintf("项目%d", i), Slug: fmt.Sprintf("proj-%05d", i),
			OrganizationID: 1, OwnerIDs: []int64{id, 1 + id%int64(n)}, RobotIDs: []int64{id}})
	}
	data, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParse is what a cold relay does with its document before the
// first answer: parse, normalize, validate and index it.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{20, 1000} {
		data := benchDoc(b, n)
		b.Run(fmt.Sprintf("projects=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				d, err := Parse(data, testKinds)
				if err != nil {
					b.Fatal(err)
				}
				NewIndex(d)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
