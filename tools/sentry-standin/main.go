// Command sentry-standin is a Sentry a person can run on this computer, to
// try sentry-white without a Sentry: it serves the parts of Sentry's API
// sentry-white asks (projects, issues with their facts, members, changing
// an issue, the token's scopes, and errors or slow answers on demand), and
// sends to a relay what Sentry sends to an internal integration (the alert
// rule component's robot options and settings, and webhooks signed as
// Sentry signs them).
//
//	sentry-standin serve [-addr 127.0.0.1:9100] [-org acme] [-token T] [-projects mall-api,pay-service]
//	sentry-standin send options|settings|event_alert|activity_alert|issue_resolved|issue_assigned -webhook URL [flags]
//
// serve prints one JSON line with its URL, organization and token, then
// serves until interrupted; /_standin/ controls it (see usage). send prints
// the relay's answer and exits non-zero when it is not 2xx.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

const usage = `sentry-standin: a Sentry on this computer, for trying sentry-white

  sentry-standin serve [flags]
      Serves Sentry's API at -addr: GET /api/0/ (the token's scopes),
      /api/0/organizations/{org}/ (its region link), …/projects/, …/issues/,
      …/issues/{id}/ (the facts an alert shows), PUT …/issues/{id}/, …/members/.
      Each project has one issue (id 1170820242, 1170820243, …).
      Control it while it runs (loopback only):
        POST   /_standin/fault   {"path": "/issues/", "status": 429, "body": "…", "delay_ms": 2000, "hang": true}
        DELETE /_standin/fault?path=/issues/
        GET    /_standin/requests
        POST   /_standin/issues  {"id": "…", "title": "…", "count": "12", "substatus": "new", …}

  sentry-standin send KIND -webhook URL [flags]
      Sends to a relay what Sentry sends to an internal integration whose
      webhook URL is -webhook (with ?token=…), signed with -secret when set:
        options         the robot select's options (GET, as Sentry's rule editor asks)
        settings        an alert rule's settings when it is saved (POST)
        event_alert     an issue alert of -project whose rule chose -robot, -mention, -notes
        activity_alert  an alert rule on issue activity, likewise
        issue_resolved  an issue resolved
        issue_assigned  an issue assigned to -assignee
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sentry-standin:", err)
		os.Exit(1)
	}
}

// errUsage is a command line that asks for what is not there.
var errUsage = errors.New("usage: sentry-standin serve|send …  (sentry-standin -h for help)")

// run runs one subcommand; ready, when not nil, receives serve's URL.
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], out, ready)
	case "send":
		return send(ctx, args[1:], out)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(out, usage)
		return nil
	}
	return errUsage
}

// DefaultToken is the token serve accepts unless -token says otherwise:
// an internal integration's, with its permissions' scopes.
const DefaultToken = "sntrys_sentry_white_standin_0123456789abcdef"

func serve(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:9100", "listen address (loopback)")
	org := fs.String("org", "acme", "the organization's slug")
	token := fs.String("token", DefaultToken, "the token it accepts (scopes org:read project:read event:write member:read)")
	projects := fs.String("projects", "mall-api,pay-service", "the organization's project slugs, comma-separated")
	prefix := fs.String("prefix", "", "serve under this path, as a self-hosted Sentry may (e.g. /sentry)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: the stand-in listens on loopback only (127.0.0.1)", *addr)
	}
	s := sentrytest.NewHandler(*prefix)
	defer s.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + strings.TrimRight(*prefix, "/")
	s.URL = base
	s.AddToken(*token, sentrytest.Token{Scopes: []string{"org:read", "project:read", "event:write", "member:read"}})
	seed(s, *org, strings.Split(*projects, ","))
	mux := http.NewServeMux()
	mux.Handle("/_standin/", control(s))
	mux.Handle("/", s)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	line, _ := json.Marshal(map[string]string{"msg": "sentry stand-in listening", "url": base, "org": *org, "token": *token})
	fmt.Fprintln(out, string(line))
	if ready != nil {
		ready <- base
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		s.Close() // releases held requests
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-done:
		return err
	}
}

// seed gives the organization its projects, one issue each with the facts
// an alert shows, and a member.
func seed(s *sentrytest.Server, org string, slugs []string) {
	var ps []sentrytest.Project
	now := time.Now().UTC()
	for i, slug := range slugs {
		slug = strings.TrimSpace(slug)
		if slug == "" {
			continue
		}
		ps = append(ps, sentrytest.Project{ID: strconv.Itoa(4504812345678912 + i), Slug: slug, Name: slug, Platform: "javascript"})
		regressed := "regressed"
		s.AddIssue(org, sentrytest.Issue{ID: strconv.Itoa(1170820242 + i), ShortID: strings.ToUpper(slug) + "-3K",
			Title: "TypeError: Cannot read properties of undefined (reading 'price')", Culprit: "/cart", Level: "error",
			Status: "unresolved", Substatus: &regressed, Count: "57", UserCount: 9,
			FirstSeen: now.Add(-48 * time.Hour).Format(time.RFC3339Nano), LastSeen: now.Format(time.RFC3339Nano),
			Project:    sentrytest.IssueProject{ID: strconv.Itoa(4504812345678912 + i), Name: slug, Slug: slug},
			AssignedTo: &sentrytest.Assignee{Type: "user", ID: "7", Name: "Jane Doe", Email: "jane@example.com"}})
	}
	s.AddOrg(org, ps...)
	s.AddMember(org, sentrytest.Member{Email: "jane@example.com", Name: "Jane Doe",
		User: &sentrytest.MemberUser{ID: "7", Email: "jane@example.com", Name: "Jane Doe", Username: "jane", IsActive: true}})
}

// control is the stand-in's control API.
func control(s *sentrytest.Server) http.Handler {
	m := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	m.HandleFunc("POST /_standin/fault", func(w http.ResponseWriter, r *http.Request) {
		var f struct {
			Path        string `json:"path"`
			Status      int    `json:"status"`
			ContentType string `json:"content_type"`
			Body        string `json:"body"`
			DelayMS     int    `json:"delay_ms"`
			Hang        bool   `json:"hang"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&f); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": "send {\"path\", \"status\", \"body\", \"delay_ms\", \"hang\"}: " + err.Error()})
			return
		}
		fault := sentrytest.Fault{Status: f.Status, ContentType: f.ContentType, Body: f.Body, Hang: f.Hang, Delay: time.Duration(f.DelayMS) * time.Millisecond}
		if f.Path == "" {
			s.Fail(fault)
		} else {
			s.FailPath(f.Path, fault)
		}
		reply(w, http.StatusOK, map[string]any{"fault": f})
	})
	m.HandleFunc("DELETE /_standin/fault", func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Query().Get("path"); p != "" {
			s.FailPath(p, sentrytest.Fault{})
		} else {
			s.Fail(sentrytest.Fault{})
		}
		reply(w, http.StatusOK, map[string]string{"fault": "none"})
	})
	m.HandleFunc("GET /_standin/requests", func(w http.ResponseWriter, r *http.Request) {
		reqs := s.Requests()
		for i := range reqs {
			if reqs[i].Authorization != "" {
				reqs[i].Authorization = "Bearer …" // the token stays out of what is shown
			}
		}
		reply(w, http.StatusOK, reqs)
	})
	m.HandleFunc("POST /_standin/issues", func(w http.ResponseWriter, r *http.Request) {
		var is sentrytest.Issue
		org := r.URL.Query().Get("org")
		if org == "" {
			org = "acme"
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&is); err != nil || is.ID == "" {
			reply(w, http.StatusBadRequest, map[string]string{"error": "send an issue with its \"id\""})
			return
		}
		s.AddIssue(org, is)
		reply(w, http.StatusOK, is)
	})
	return m
}

func send(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	kind := args[0]
	fs := flag.NewFlagSet("send "+kind, flag.ContinueOnError)
	fs.SetOutput(out)
	webhook := fs.String("webhook", "", "the integration's webhook URL, as pasted in Sentry (…/?token=…)")
	secret := fs.String("secret", "", "the integration's client secret: requests are signed with it")
	uri := fs.String("uri", "", "the component's uri (default: the configurator's, /sentry-app/<token>/robots or …/settings under the webhook URL's path)")
	sentryURL := fs.String("sentry", "http://127.0.0.1:9100", "the Sentry the webhook's links name (the stand-in's URL)")
	org := fs.String("org", "acme", "the organization")
	project := fs.String("project", "mall-api", "the project slug")
	issue := fs.String("issue", "1170820242", "the issue id")
	event := fs.String("event", "", "the event id (default: a new one, as every event has)")
	title := fs.String("title", "", "the issue's title")
	level := fs.String("level", "error", "the level")
	rule := fs.String("rule", "生产环境新错误", "the alert rule's name")
	robot := fs.String("robot", "", "the alert rule's robot (a robot id)")
	mention := fs.String("mention", "", "the alert rule's mention: owners, oncall, all or none")
	notes := fs.String("notes", "", "the alert rule's notes")
	activity := fs.String("activity", "seer_root_cause_completed", "activity_alert: the activity that fired it")
	assignee := fs.String("assignee", "Jane Doe", "issue_assigned: whom it is assigned to")
	installation := fs.String("installation", "717a85e5-236c-45c0-8b4e-ba01f5391395", "the installation's uuid")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *webhook == "" {
		return errors.New("-webhook is required: the relay's webhook URL with ?token=… (the configurator's Webhook page)")
	}
	snd := &sentrytest.Sender{WebhookURL: *webhook, Secret: *secret}
	if *event == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		*event = hex.EncodeToString(b[:])
	}
	a := sentrytest.Alert{SentryURL: *sentryURL, Org: *org, Project: *project, IssueID: *issue, EventID: *event, Title: *title, Level: *level,
		Rule: *rule, Installation: *installation}
	if s := sentrytest.Settings(*robot, *mention, *notes); len(s) > 0 {
		a.Settings = s
	}
	var ans *sentrytest.Answer
	var err error
	switch kind {
	case "options":
		ans, err = snd.Options(ctx, cmp.Or(*uri, componentURI(*webhook, "robots")), *installation, *project, "")
	case "settings":
		ans, err = snd.SaveSettings(ctx, cmp.Or(*uri, componentURI(*webhook, "settings")), *installation, sentrytest.Settings(*robot, *mention, *notes))
	case "event_alert":
		ans, err = snd.Webhook(ctx, "event_alert", sentrytest.EventAlertBody(a))
	case "activity_alert":
		ans, err = snd.Webhook(ctx, "activity_alert", sentrytest.ActivityAlertBody(a, *activity))
	case "issue_resolved":
		ans, err = snd.Webhook(ctx, "issue", sentrytest.IssueBody("resolved", a, nil, "Jane Doe"))
	case "issue_assigned":
		ans, err = snd.Webhook(ctx, "issue", sentrytest.IssueBody("assigned", a, &sentrytest.Assignee{Type: "user", ID: "7", Name: *assignee}, ""))
	default:
		return fmt.Errorf("send %q: the kinds are options, settings, event_alert, activity_alert, issue_resolved, issue_assigned", kind)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "HTTP %d\n%s", ans.Status, ans.Body)
	if len(ans.Body) > 0 && ans.Body[len(ans.Body)-1] != '\n' {
		fmt.Fprintln(out)
	}
	if ans.Status < 200 || ans.Status > 299 {
		return fmt.Errorf("the relay answered HTTP %d", ans.Status)
	}
	return nil
}

// componentURI is the uri the configurator's schema gives a component:
// the webhook URL's path, then /sentry-app/<token>/<what>.
func componentURI(webhook, what string) string {
	u, err := url.Parse(webhook)
	if err != nil {
		return "/sentry-app/" + what
	}
	p := strings.TrimRight(u.Path, "/") + "/sentry-app/"
	if tok := u.Query().Get("token"); tok != "" {
		p += url.PathEscape(tok) + "/"
	}
	return p + what
}
