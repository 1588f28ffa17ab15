package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// The seed kept its configuration as separate objects in the bucket's api/
// folder and read them on every webhook: the four lists, then each owner of
// the project; it then sent one DingTalk message per owner. seedKeys are
// the objects of that layout, written from the same document.
const (
	seedOrgs     = "seed/organizations.json"
	seedOwners   = "seed/owners.json"
	seedRobots   = "seed/robots.json"
	seedProjects = "seed/projects.json"
)

func seedOwnerKey(id int64) string { return "seed/owners/" + strconv.FormatInt(id, 10) + ".json" }

// seedObjects lays d out the seed's way.
func seedObjects(d *config.Document) (map[string][]byte, error) {
	out := map[string][]byte{}
	put := func(k string, v any) error {
		b, err := json.Marshal(v)
		out[k] = b
		return err
	}
	err := errors.Join(put(seedOrgs, d.Organizations), put(seedOwners, d.Owners), put(seedRobots, d.Robots),
		put(seedProjects, d.Projects))
	for _, o := range d.Owners {
		err = errors.Join(err, put(seedOwnerKey(o.ID), o))
	}
	return out, err
}

// seedRelay emulates the seed's access pattern with this repository's
// parser, renderer and DingTalk sender, so that only the pattern differs:
// per webhook 4 + N store reads through the same OSS backend (no cache),
// and one DingTalk message per owner, sent one after the other.
type seedRelay struct {
	b     store.Backend
	dt    *dingtalk.Notifier
	token string
}

func (s *seedRelay) get(ctx context.Context, key string, v any) error {
	obj, err := s.b.Get(ctx, key, "")
	if err != nil {
		return err
	}
	return json.Unmarshal(obj.Data, v)
}

func (s *seedRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusOK) // the readiness probe
		_, _ = io.WriteString(w, `{"status":"ok"}`)
		return
	}
	fail := func(code int, err error) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, strconv.Quote(err.Error()))
	}
	if r.URL.Query().Get("token") != s.token {
		fail(http.StatusUnauthorized, errors.New("token"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	ev, err := sentry.Parse(body, r.Header)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	var (
		orgs     []config.Organization
		owners   []config.Owner
		robots   []config.Robot
		projects []config.Project
	)
	for _, g := range []struct {
		key string
		v   any
	}{{seedOrgs, &orgs}, {seedOwners, &owners}, {seedRobots, &robots}, {seedProjects, &projects}} {
		if err := s.get(ctx, g.key, g.v); err != nil {
			fail(http.StatusServiceUnavailable, err)
			return
		}
	}
	var p *config.Project
	for i := range projects {
		if len(ev.ProjectSlugs) > 0 && strings.EqualFold(projects[i].Slug, ev.ProjectSlugs[0]) {
			p = &projects[i]
			break
		}
	}
	if p == nil {
		fail(http.StatusNotFound, fmt.Errorf("unknown project %v", ev.ProjectSlugs))
		return
	}
	var org *config.Organization
	for i := range orgs {
		if orgs[i].ID == p.OrganizationID {
			org = &orgs[i]
		}
	}
	var rs []*config.Robot
	for i := range robots {
		for _, id := range p.RobotIDs {
			if robots[i].ID == id {
				rs = append(rs, &robots[i])
			}
		}
	}
	sent := 0
	for _, id := range p.OwnerIDs {
		var o config.Owner
		if err := s.get(ctx, seedOwnerKey(id), &o); err != nil {
			fail(http.StatusServiceUnavailable, err)
			return
		}
		for _, rb := range rs {
			t := route.Target{Project: p, Org: org, Robot: rb, Owners: []*config.Owner{&o}, AllOwners: []*config.Owner{&o}}
			if err := s.dt.Send(ctx, rb, render.Message(t, ev, render.Options{})); err != nil {
				fail(http.StatusBadGateway, err)
				return
			}
			sent++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"delivered","messages":%d}`, sent)
}

// runSeedRelay is the seed-relay subcommand: it serves until SIGTERM.
func runSeedRelay(args []string) error {
	fs := flag.NewFlagSet("seed-relay", flag.ContinueOnError)
	storeLoc := fs.String("store", "", "oss://BUCKET/PREFIX (with OSS_ENDPOINT, OSS_REGION and keys in the environment)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := store.ParseLocation(*storeLoc)
	if err != nil {
		return err
	}
	b, err := store.Open(loc, nil)
	if err != nil {
		return err
	}
	h := &seedRelay{b: b, token: webhookToken, dt: &dingtalk.Notifier{
		Base: os.Getenv("SENTRY_WHITE_DINGTALK_API"), Client: notify.NewHTTPClient()}}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
