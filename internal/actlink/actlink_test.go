package actlink

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

func doc() *config.Document {
	return &config.Document{RelayURL: "https://alerts.example.com/", Organizations: []config.Organization{
		{ID: 1, Slug: "acme", APIToken: "sntrys_one"}, {ID: 2, Slug: "other", APIToken: "sntrys_two"}, {ID: 3, Slug: "none"}}}
}

var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestLinkRoundTrip(t *testing.T) {
	d := doc()
	key := Key(d, &d.Organizations[0])
	l := Link{Org: 1, Project: 7, Issue: "4567890123", Action: Take, Expires: now.Add(Lifetime)}
	u := l.URL(d.RelayURL, key)
	if !strings.HasPrefix(u, "https://alerts.example.com/act/1/7/4567890123/take/") || strings.Contains(u, "sntrys") {
		t.Fatalf("URL %s", u)
	}
	got, sig, err := Parse(strings.TrimPrefix(u, "https://alerts.example.com"))
	if err != nil || got != l {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if err := got.Check(sig, key, now); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := got.Check(sig, key, now.Add(Lifetime)); !errors.Is(err, ErrExpired) {
		t.Errorf("a week later: %v, want expired", err)
	}
}

// TestTamperedLinks: every member changed, another organization's key, a
// rotated key, a changed api_token, and malformed paths.
func TestTamperedLinks(t *testing.T) {
	d := doc()
	key := Key(d, &d.Organizations[0])
	l := Link{Org: 1, Project: 7, Issue: "4567890123", Action: Resolve, Expires: now.Add(time.Hour)}
	path := l.Path(key)
	sigPart := path[strings.LastIndexByte(path, '/')+1:]
	for name, p := range map[string]string{
		"org":     strings.Replace(path, "/act/1/", "/act/2/", 1),
		"project": strings.Replace(path, "/1/7/", "/1/8/", 1),
		"issue":   strings.Replace(path, "4567890123", "4567890124", 1),
		"action":  strings.Replace(path, "/resolve/", "/ignore/", 1),
		"expiry":  strings.Replace(path, "/"+itoa(l.Expires.Unix())+"/", "/"+itoa(l.Expires.Unix()+86400)+"/", 1),
		"sig":     strings.TrimSuffix(path, sigPart) + flip(sigPart),
	} {
		pl, sig, err := Parse(p)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if err := pl.Check(sig, Key(d, &d.Organizations[pl.Org-1]), now); !errors.Is(err, ErrSignature) {
			t.Errorf("%s changed: %v, want a signature error", name, err)
		}
	}
	// Another organization's key does not verify this organization's link.
	pl, sig, _ := Parse(path)
	if err := pl.Check(sig, Key(d, &d.Organizations[1]), now); !errors.Is(err, ErrSignature) {
		t.Errorf("another organization's key: %v", err)
	}
	// No api_token: no key, no links.
	if Key(d, &d.Organizations[2]) != nil || Enabled(d, &d.Organizations[2]) || !Enabled(d, &d.Organizations[0]) {
		t.Error("an organization without api_token must serve no links")
	}
	if err := pl.Check(sig, nil, now); !errors.Is(err, ErrSignature) {
		t.Errorf("no key: %v", err)
	}
	// A changed api_token invalidates links while no action_key is stored.
	d2 := doc()
	d2.Organizations[0].APIToken = "sntrys_rotated"
	if err := pl.Check(sig, Key(d2, &d2.Organizations[0]), now); !errors.Is(err, ErrSignature) {
		t.Errorf("after the api_token changed: %v", err)
	}
	// Storing an action key invalidates every link; then the api_token no
	// longer matters.
	d3 := doc()
	d3.ActionKey = config.Secret(NewKey())
	if err := pl.Check(sig, Key(d3, &d3.Organizations[0]), now); !errors.Is(err, ErrSignature) {
		t.Errorf("after rotating: %v", err)
	}
	k3 := Key(d3, &d3.Organizations[0])
	p3 := l.Path(k3)
	d3.Organizations[0].APIToken = "sntrys_changed"
	pl3, sig3, _ := Parse(p3)
	if err := pl3.Check(sig3, Key(d3, &d3.Organizations[0]), now); err != nil {
		t.Errorf("with an action key, a new api_token keeps the links: %v", err)
	}
	if string(Key(d3, &d3.Organizations[0])) == string(Key(d3, &d3.Organizations[1])) {
		t.Error("two organizations share a key")
	}

	for _, bad := range []string{"", "/act/", "/act/1/7/123/resolve/99", "/act/1/7/123/resolve/99/x/y",
		"/act/0/7/123/resolve/99/" + sigPart, "/act/1/7/0123/resolve/99/" + sigPart, "/act/1/7/12a/resolve/99/" + sigPart,
		"/act/1/7/123/delete/99/" + sigPart, "/act/1/7/123/resolve/-5/" + sigPart, "/act/1/7/123/resolve/99/short",
		"/act/+1/7/123/resolve/99/" + sigPart, "/act/1/7/123/resolve/099/" + sigPart, "/other/1/7/123/resolve/99/" + sigPart,
		"/act/1/7/123456789012345678901/resolve/99/" + sigPart} {
		if _, _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want malformed", bad, err)
		}
	}
}

func TestFormToken(t *testing.T) {
	d := doc()
	key := Key(d, &d.Organizations[0])
	l := Link{Org: 1, Project: 7, Issue: "42", Action: Ignore, Expires: now.Add(time.Hour)}
	tok := FormToken(key, l, now)
	if err := CheckFormToken(key, l, tok, now.Add(time.Minute)); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if FormToken(key, l, now) == tok {
		t.Error("two pages got the same token: the nonce is missing")
	}
	other := l
	other.Action = Resolve
	for name, c := range map[string]struct {
		key  []byte
		l    Link
		tok  string
		at   time.Time
		want error
	}{
		"none":          {key, l, "", now, ErrNoFormToken},
		"garbage":       {key, l, "x.y", now, ErrFormToken},
		"other link":    {key, other, tok, now, ErrFormToken},
		"other org key": {Key(d, &d.Organizations[1]), l, tok, now, ErrFormToken},
		"altered":       {key, l, tok[:len(tok)-2] + "AA", now, ErrFormToken},
		"new time":      {key, l, strings.Replace(tok, itoa(now.Unix()), itoa(now.Unix()+60), 1), now, ErrFormToken},
		"old page":      {key, l, tok, now.Add(FormTokenAge + time.Second), ErrFormTokenOld},
		"future page":   {key, l, tok, now.Add(-2 * time.Minute), ErrFormTokenOld},
	} {
		if err := CheckFormToken(c.key, c.l, c.tok, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestValidIssue(t *testing.T) {
	for id, want := range map[string]bool{"1": true, "4567890123": true, "": false, "0": false, "01": false, "12a": false,
		"PROJ-1": false, "123456789012345678901": false} {
		if ValidIssue(id) != want {
			t.Errorf("ValidIssue(%q) = %v", id, !want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// flip changes a signature's first character to another valid one.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
