package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

const testBucket = "sentry-white-test"

// Keys used by the tests; none may appear in an error.
var envCreds = Credentials{AccessKeyID: "LTAI5tEnvKeyId0001", AccessKeySecret: "envSecretValue0001xyz"}

func newOSSPair(t *testing.T) (*OSS, *osstest.Server) {
	t.Helper()
	srv := osstest.New(testBucket)
	t.Cleanup(srv.Close)
	o, err := NewOSS(OSSConfig{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: testBucket, Prefix: "api/", Credentials: envCreds})
	if err != nil {
		t.Fatal(err)
	}
	return o, srv
}

func exampleDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/example-store/api/v1/config.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seed(t *testing.T, srv *osstest.Server, key string, data []byte) {
	t.Helper()
	if err := srv.Seed(testBucket, key, data); err != nil {
		t.Fatal(err)
	}
}

// noKeys fails when text holds any of the keys.
func noKeys(t *testing.T, text string, cs ...Credentials) {
	t.Helper()
	for _, c := range cs {
		for _, k := range []string{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken} {
			if k != "" && strings.Contains(text, k) {
				t.Errorf("error leaks a key: %s", text)
			}
		}
	}
}

func TestOpenOSS(t *testing.T) {
	loc, err := ParseLocation("oss://sentry-white-test/api/")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	_, err = Open(loc, getenv)
	if err == nil || !strings.Contains(err.Error(), "OSS_ENDPOINT") {
		t.Fatalf("Open without OSS_ENDPOINT: got %v, want an error naming OSS_ENDPOINT", err)
	}

	env["OSS_ENDPOINT"] = "ftp://example.com"
	if _, err := Open(loc, getenv); err == nil || !strings.Contains(err.Error(), "OSS_ENDPOINT") {
		t.Fatalf("Open with a bad endpoint: got %v, want an error naming OSS_ENDPOINT", err)
	}

	env["OSS_ENDPOINT"] = "oss-cn-hangzhou-internal.aliyuncs.com"
	env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = envCreds.AccessKeyID
	env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = envCreds.AccessKeySecret
	env["ALIBABA_CLOUD_SECURITY_TOKEN"] = "envTokenValue0001"
	b, err := Open(loc, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "oss://sentry-white-test/api/ at https://oss-cn-hangzhou-internal.aliyuncs.com, region cn-hangzhou"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	o := b.(*OSS)
	if got := o.cfg.Credentials; got.AccessKeyID != envCreds.AccessKeyID || got.AccessKeySecret != envCreds.AccessKeySecret || got.SecurityToken != "envTokenValue0001" {
		t.Errorf("credentials not taken from ALIBABA_CLOUD_*")
	}
}

func TestOSSObjects(t *testing.T) {
	o, srv := newOSSPair(t)
	ctx := context.Background()
	doc := exampleDoc(t)
	seed(t, srv, "api/v1/config.json", doc)

	obj, err := o.Get(ctx, "api/v1/config.json", "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(obj.Data, doc) || obj.ETag == "" {
		t.Fatalf("Get = %d bytes, ETag %q; want the seeded %d bytes and an ETag", len(obj.Data), obj.ETag, len(doc))
	}

	// Conditional GET: 304, no body, same ETag.
	n := srv.Count()
	nm, err := o.Get(ctx, "api/v1/config.json", obj.ETag)
	if !errors.Is(err, ErrNotModified) {
		t.Fatalf("Get If-None-Match current: got %v, want ErrNotModified", err)
	}
	if nm.ETag != obj.ETag || nm.Data != nil {
		t.Errorf("not-modified object = %q/%d bytes, want ETag %q and no data", nm.ETag, len(nm.Data), obj.ETag)
	}
	reqs := srv.Since(n)
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Header.Get("If-None-Match") != obj.ETag || reqs[0].Status != http.StatusNotModified {
		t.Errorf("conditional GET sent %+v, want one GET with If-None-Match answered 304", reqs)
	}
	if _, err := o.Get(ctx, "api/v1/config.json", `"0123"`); err != nil {
		t.Errorf("Get with another ETag: %v, want the object", err)
	}

	_, err = o.Get(ctx, "api/v1/missing.json", "")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: got %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "api/v1/missing.json") {
		t.Errorf("missing-object error %q does not name the key", err)
	}

	// Unconditional and conditional writes.
	tag1, err := o.Put(ctx, "api/v1/a.json", []byte(`{"n":1}`), nil)
	if err != nil || tag1 == "" {
		t.Fatalf("Put: %q, %v", tag1, err)
	}
	if got, _ := srv.Object(testBucket, "api/v1/a.json"); string(got) != `{"n":1}` {
		t.Errorf("stored %q", got)
	}
	if got := o.mustGet(t, "api/v1/a.json"); got.ETag != tag1 {
		t.Errorf("Put returned ETag %q, Get says %q", tag1, got.ETag)
	}
	stale := `"00000000000000000000000000000000"`
	if _, err := o.Put(ctx, "api/v1/a.json", []byte(`{"n":2}`), &stale); !errors.Is(err, ErrConflict) {
		t.Errorf("Put with a stale ETag: got %v, want ErrConflict", err)
	}
	empty := ""
	if _, err := o.Put(ctx, "api/v1/a.json", []byte(`{"n":2}`), &empty); !errors.Is(err, ErrConflict) {
		t.Errorf("create over an existing key: got %v, want ErrConflict", err)
	}
	if got, _ := srv.Object(testBucket, "api/v1/a.json"); string(got) != `{"n":1}` {
		t.Errorf("a refused write changed the object to %q", got)
	}
	tag2, err := o.Put(ctx, "api/v1/a.json", []byte(`{"n":2}`), &tag1)
	if err != nil || tag2 == tag1 {
		t.Fatalf("Put with the current ETag: %q, %v", tag2, err)
	}
	if _, err := o.Put(ctx, "api/v1/gone.json", []byte(`{}`), &tag1); !errors.Is(err, ErrConflict) {
		t.Errorf("Put with an ETag on a missing key: got %v, want ErrConflict", err)
	}
	n = srv.Count()
	if _, err := o.Put(ctx, "api/v1/new.json", []byte(`{}`), &empty); err != nil {
		t.Fatalf("create: %v", err)
	}
	var sawForbid bool
	for _, r := range srv.Since(n) {
		if r.Method == http.MethodPut {
			sawForbid = r.Header.Get("x-oss-forbid-overwrite") == "true" && r.Header.Get("Content-Type") == "application/json"
		}
	}
	if !sawForbid {
		t.Errorf("a create did not send x-oss-forbid-overwrite: true with Content-Type application/json")
	}

	// List with continuation.
	o.listPage = 2
	for i := range 5 {
		seed(t, srv, fmt.Sprintf("api/v1/history/%02d.json", i), []byte("{}"))
	}
	seed(t, srv, "other/x.json", []byte("{}"))
	n = srv.Count()
	keys, err := o.List(ctx, "api/v1/history/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(keys, ","), "api/v1/history/00.json,api/v1/history/01.json,api/v1/history/02.json,api/v1/history/03.json,api/v1/history/04.json"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
	if got := len(srv.Since(n)); got != 3 {
		t.Errorf("List of 5 keys by 2 took %d requests, want 3 pages", got)
	}
	if keys, err := o.List(ctx, "api/nothing/"); err != nil || len(keys) != 0 {
		t.Errorf("List of an empty prefix = %v, %v", keys, err)
	}

	if err := o.Delete(ctx, "api/v1/a.json"); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Object(testBucket, "api/v1/a.json"); ok {
		t.Error("Delete left the object")
	}
	if err := o.Delete(ctx, "api/v1/a.json"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
}

func (o *OSS) mustGet(t *testing.T, key string) Object {
	t.Helper()
	obj, err := o.Get(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestOSSLocalhostEndpoint(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	ep := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	o, err := NewOSS(OSSConfig{Endpoint: ep, Region: "cn-hangzhou", Bucket: testBucket, Credentials: envCreds})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, srv, "api/v1/config.json", []byte("{}"))
	if _, err := o.Get(context.Background(), "api/v1/config.json", ""); err != nil {
		t.Fatalf("Get through http://localhost:PORT: %v", err)
	}
	if r := srv.Requests(); len(r) != 1 || r[0].Path != "/"+testBucket+"/api/v1/config.json" {
		t.Errorf("requests %+v, want one path-style GET", r)
	}
}

func TestOSSErrorsNameTheStep(t *testing.T) {
	o, srv := newOSSPair(t)
	fc := Credentials{AccessKeyID: "STS.NUzXfcKeyId0002", AccessKeySecret: "fcSecretValue0002abc", SecurityToken: "CAIStokenValue0002+/="}
	ctx := WithCredentials(context.Background(), fc)
	seed(t, srv, "api/v1/config.json", []byte("{}"))

	cases := []struct {
		fault osstest.Fault
		kind  error
		words string
	}{
		{osstest.Fault{Status: 403, Code: "InvalidAccessKeyId", Message: "The OSS Access Key Id you provided does not exist in our records: " + fc.AccessKeyID}, ErrCredentials, "credentials refused (HTTP 403 InvalidAccessKeyId"},
		{osstest.Fault{Status: 403, Code: "SignatureDoesNotMatch", Message: "signature mismatch for key " + fc.AccessKeySecret + " token " + fc.SecurityToken}, ErrCredentials, "credentials refused (HTTP 403 SignatureDoesNotMatch"},
		{osstest.Fault{Status: 403, Code: "AccessDenied"}, ErrCredentials, "credentials refused (HTTP 403 AccessDenied"},
		{osstest.Fault{Status: 404, Code: "NoSuchBucket"}, ErrNoBucket, "bucket missing (HTTP 404 NoSuchBucket"},
		{osstest.Fault{Status: 404, Code: "NoSuchKey"}, ErrNotFound, "not found (HTTP 404 NoSuchKey"},
		{osstest.Fault{Status: 503, Code: "ServiceUnavailable"}, nil, "failed (HTTP 503 ServiceUnavailable"},
	}
	stale := `"abc"`
	ops := []struct {
		name string
		do   func() error
	}{
		{"oss get api/v1/config.json", func() error { _, err := o.Get(ctx, "api/v1/config.json", ""); return err }},
		{"oss put api/v1/config.json", func() error { _, err := o.Put(ctx, "api/v1/config.json", []byte("{}"), nil); return err }},
		{"oss head api/v1/config.json", func() error { _, err := o.Put(ctx, "api/v1/config.json", []byte("{}"), &stale); return err }},
		{"oss list api/", func() error { _, err := o.List(ctx, "api/"); return err }},
		{"oss delete api/v1/config.json", func() error { return o.Delete(ctx, "api/v1/config.json") }},
	}
	for _, c := range cases {
		srv.Fail(c.fault)
		for _, op := range ops {
			err := op.do()
			if c.kind == ErrNotFound && op.name == "oss delete api/v1/config.json" {
				if err != nil {
					t.Errorf("%s on %s: %v, want nil (a missing key is no error)", op.name, c.fault.Code, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s on %s: no error", op.name, c.fault.Code)
				continue
			}
			msg := err.Error()
			if op.name == "oss head api/v1/config.json" && c.kind == ErrNotFound {
				// A HEAD on a missing key before a conditional write: the
				// write is refused as a conflict instead.
				if !errors.Is(err, ErrConflict) {
					t.Errorf("conditional put on a missing key: %v, want ErrConflict", err)
				}
				continue
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("%s on %s: %v is not %v", op.name, c.fault.Code, err, c.kind)
			}
			if !strings.HasPrefix(msg, op.name+": ") || !strings.Contains(msg, c.words) {
				t.Errorf("%s on %s: %q, want it to start with %q and contain %q", op.name, c.fault.Code, msg, op.name, c.words)
			}
			noKeys(t, msg, fc, envCreds)
		}
	}
}

func TestOSSTimeoutAndUnreachable(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	o, err := NewOSS(OSSConfig{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: testBucket, Credentials: envCreds, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail(osstest.Fault{Hang: true})
	_, err = o.Get(context.Background(), "api/v1/config.json", "")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "oss get api/v1/config.json: endpoint unreachable: timed out waiting for "+srv.URL) {
		t.Errorf("a hanging store: %v, want endpoint unreachable, timed out", err)
	}
	noKeys(t, fmt.Sprint(err), envCreds)

	// The caller's deadline wins when it is shorter.
	o.cfg.Timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := o.Get(ctx, "api/v1/config.json", ""); !errors.Is(err, ErrUnreachable) {
		t.Errorf("a hanging store with a caller deadline: %v, want ErrUnreachable", err)
	}

	srv.Close()
	_, err = o.List(context.Background(), "api/")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "oss list api/: endpoint unreachable: "+srv.URL) {
		t.Errorf("a stopped store: %v, want endpoint unreachable naming the endpoint", err)
	}
	noKeys(t, fmt.Sprint(err), envCreds)
}

func TestOSSNoCredentials(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	o, err := NewOSS(OSSConfig{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: testBucket})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Get(context.Background(), "api/v1/config.json", "")
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Errorf("no keys anywhere: %v, want credentials refused naming ALIBABA_CLOUD_ACCESS_KEY_ID", err)
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("sent %d requests without keys", n)
	}
	// Keys in the context are enough.
	seed(t, srv, "api/v1/config.json", []byte("{}"))
	ctx := WithCredentials(context.Background(), Credentials{AccessKeyID: "STS.ctxonly", AccessKeySecret: "ctxsecret"})
	if _, err := o.Get(ctx, "api/v1/config.json", ""); err != nil {
		t.Errorf("keys from the context: %v", err)
	}
}

// TestWithFCCredentialsNeedsAllThree: FC's per-request keys are used only
// when the request carries the key ID, the secret and the security token.
// FC's role keys are temporary and OSS refuses them without their token;
// the custom runtime on Debian 11 no longer sends x-fc-security-token, and
// there the keys FC sets in the environment (ALIBABA_CLOUD_*, with their
// token) sign instead.
func TestWithFCCredentialsNeedsAllThree(t *testing.T) {
	o, srv := newOSSPair(t)
	seed(t, srv, "api/v1/config.json", []byte("{}"))
	const id, secret, token = "STS.NUfcHeaderKey0003", "fcHeaderSecret0003", "CAISfcHeaderToken0003"
	cases := []struct {
		name              string
		id, secret, token string
		wantID, wantToken string
	}{
		{"all three", id, secret, token, id, token},
		{"no security token (Debian 11)", id, secret, "", envCreds.AccessKeyID, ""},
		{"no secret", id, "", token, envCreds.AccessKeyID, ""},
		{"no key ID", "", secret, token, envCreds.AccessKeyID, ""},
		{"none", "", "", "", envCreds.AccessKeyID, ""},
		{"blank values", " ", " ", " ", envCreds.AccessKeyID, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, "http://relay.invalid/", nil)
		for k, v := range map[string]string{"x-fc-access-key-id": c.id, "x-fc-access-key-secret": c.secret, "x-fc-security-token": c.token} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		n := srv.Count()
		if _, err := o.Get(WithFCCredentials(req), "api/v1/config.json", ""); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r := srv.Since(n)
		if len(r) != 1 {
			t.Fatalf("%s: %d requests, want 1", c.name, len(r))
		}
		if r[0].AccessKeyID != c.wantID || r[0].SecurityToken != c.wantToken {
			t.Errorf("%s: signed with key %q token %q, want %q token %q", c.name, r[0].AccessKeyID, r[0].SecurityToken, c.wantID, c.wantToken)
		}
	}
}

func TestOSSPerRequestCredentials(t *testing.T) {
	o, srv := newOSSPair(t)
	seed(t, srv, "api/v1/config.json", []byte("{}"))
	get := func(ctx context.Context) osstest.Request {
		t.Helper()
		n := srv.Count()
		if _, err := o.Get(ctx, "api/v1/config.json", ""); err != nil {
			t.Fatal(err)
		}
		r := srv.Since(n)
		if len(r) != 1 {
			t.Fatalf("%d requests, want 1", len(r))
		}
		return r[0]
	}

	r := get(context.Background())
	if r.AccessKeyID != envCreds.AccessKeyID || r.SecurityToken != "" {
		t.Errorf("without request keys signed with %q token %q, want the environment's key and no token", r.AccessKeyID, r.SecurityToken)
	}
	for i := 1; i <= 3; i++ {
		c := Credentials{AccessKeyID: fmt.Sprintf("STS.rotated%d", i), AccessKeySecret: fmt.Sprintf("secret%d", i), SecurityToken: fmt.Sprintf("token%d", i)}
		r := get(WithCredentials(context.Background(), c))
		if r.AccessKeyID != c.AccessKeyID || r.SecurityToken != c.SecurityToken {
			t.Errorf("rotation %d signed with %q token %q, want %q %q", i, r.AccessKeyID, r.SecurityToken, c.AccessKeyID, c.SecurityToken)
		}
	}
	// Same ID, new token: the client is replaced, not reused.
	c := Credentials{AccessKeyID: "STS.rotated3", AccessKeySecret: "secret3", SecurityToken: "token3b"}
	if r := get(WithCredentials(context.Background(), c)); r.SecurityToken != "token3b" {
		t.Errorf("a renewed token was not used: %q", r.SecurityToken)
	}

	// Many goroutines with rotating keys: every call signs with its own
	// keys, and the client cache stays bounded.
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := fmt.Sprintf("STS.g%02dk%d", g, i%3)
				ctx := WithCredentials(context.Background(), Credentials{AccessKeyID: id, AccessKeySecret: "s-" + id, SecurityToken: "t-" + id})
				if _, err := o.Get(ctx, "api/v1/config.json", ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.AccessKeyID, "STS.g") && r.SecurityToken != "t-"+r.AccessKeyID {
			t.Fatalf("request signed by %q carried token %q", r.AccessKeyID, r.SecurityToken)
		}
	}
	o.mu.Lock()
	n := len(o.clients)
	o.mu.Unlock()
	if n > maxClients {
		t.Errorf("%d cached clients, want at most %d", n, maxClients)
	}
}

// TestReadSized: a body read into a buffer of its announced length is the
// body, whatever the length says; over the limit it is cut one byte past
// it, as before.
func TestReadSized(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 35000)
	for _, length := range []string{"350000", "", "x", "10", "400000", "-1"} {
		got, err := readSized(bytes.NewReader(data), length)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Content-Length %q: %d bytes, %v", length, len(got), err)
		}
	}
	if allocs := testing.AllocsPerRun(5, func() { _, _ = readSized(bytes.NewReader(data), "350000") }); allocs > 4 {
		t.Errorf("%v allocations to read 350 KB of announced length, want one buffer (and its reader)", allocs)
	}
}
