package store

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// openEnv opens loc with the given environment plus the test keys.
func openEnv(t *testing.T, loc string, env map[string]string) (Backend, error) {
	t.Helper()
	l, err := ParseLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     envCreds.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": envCreds.AccessKeySecret,
	}
	for k, v := range env {
		full[k] = v
	}
	return Open(l, func(k string) string { return full[k] })
}

// exercise runs every kind of call a backend makes: create, read,
// conditional read, conditional write (HEAD then PUT), list, append
// (AppendObject, then the rewrite fallback gofakes3 needs) and delete.
func exercise(t *testing.T, b Backend, ctx context.Context) {
	t.Helper()
	empty := ""
	tag, err := b.Put(ctx, "api/v1/config.json", []byte(`{"schema":1}`), &empty)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	obj, err := b.Get(ctx, "api/v1/config.json", "")
	if err != nil || obj.ETag != tag {
		t.Fatalf("get: %v (ETag %q, want %q)", err, obj.ETag, tag)
	}
	if _, err := b.Get(ctx, "api/v1/config.json", tag); !errors.Is(err, ErrNotModified) {
		t.Fatalf("conditional get: %v, want ErrNotModified", err)
	}
	if _, err := b.Put(ctx, "api/v1/config.json", []byte(`{"schema":1,"owners":[]}`), &tag); err != nil {
		t.Fatalf("conditional put: %v", err)
	}
	if keys, err := b.List(ctx, "api/v1/"); err != nil || len(keys) != 1 {
		t.Fatalf("list: %v %v", keys, err)
	}
	if err := b.(Appender).Append(ctx, "api/v1/deliveries/2026-11-25.jsonl", []byte("{}\n")); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := b.Delete(ctx, "api/v1/deliveries/2026-11-25.jsonl"); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

// TestOSSSignsV4: every request is signed with V4 (OSS4-HMAC-SHA256) for
// the region in OSS_REGION, with the environment's keys and with a
// request's own (Function Compute's) keys. The loopback server refuses
// anything else, as OSS does for an account opened since 2025-03-01.
func TestOSSSignsV4(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	b, err := openEnv(t, "oss://"+testBucket+"/api/", map[string]string{"OSS_ENDPOINT": srv.URL, "OSS_REGION": "cn-shanghai"})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, b, context.Background())
	n := srv.Count()
	fc := Credentials{AccessKeyID: "STS.NUzXfcKeyId0003", AccessKeySecret: "fcSecretValue0003abc", SecurityToken: "CAIStokenValue0003"}
	if _, err := b.Get(WithCredentials(context.Background(), fc), "api/v1/config.json", ""); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	methods := map[string]bool{}
	for i, r := range reqs {
		methods[r.Method] = true
		want := envCreds.AccessKeyID
		if i >= n {
			want = fc.AccessKeyID
		}
		if r.Scheme != osstest.V4 || r.Region != "cn-shanghai" || r.AccessKeyID != want {
			t.Errorf("%s %s signed %q region %q key %q; want %s for cn-shanghai with %s (Authorization %q)",
				r.Method, r.Path, r.Scheme, r.Region, r.AccessKeyID, osstest.V4, want, r.Header.Get("Authorization"))
		}
		if !strings.Contains(r.Header.Get("Authorization"), "/cn-shanghai/oss/aliyun_v4_request") {
			t.Errorf("%s %s: credential scope %q does not name cn-shanghai/oss", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete} {
		if !methods[m] {
			t.Errorf("no %s request was made; the test must cover every kind of call", m)
		}
	}
}

// TestOSSRegionFromEnvironment: the region is OSS_REGION, else the one
// the endpoint names, else FC_REGION; a local test server's endpoint
// gets cn-hangzhou; without any, opening fails naming the variables to
// set.
func TestOSSRegionFromEnvironment(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	loc := "oss://" + testBucket + "/api/"

	_, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": "https://config.example.com"})
	if err == nil || !strings.Contains(err.Error(), "OSS_REGION") || !strings.Contains(err.Error(), "cn-hangzhou") {
		t.Fatalf("a custom domain without a region: %v; want an error naming OSS_REGION", err)
	}
	if _, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": srv.URL, "OSS_REGION": "cn hangzhou!"}); err == nil || !strings.Contains(err.Error(), "OSS_REGION") {
		t.Fatalf("a malformed OSS_REGION: %v; want an error naming it", err)
	}

	regionOf := func(env map[string]string) string {
		t.Helper()
		b, err := openEnv(t, loc, env)
		if err != nil {
			t.Fatal(err)
		}
		n := srv.Count()
		if _, err := b.Get(context.Background(), "api/v1/none.json", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get: %v", err)
		}
		reqs := srv.Since(n)
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		return reqs[0].Region
	}
	if got := regionOf(map[string]string{"OSS_ENDPOINT": srv.URL, "FC_REGION": "cn-beijing"}); got != "cn-beijing" {
		t.Errorf("with FC_REGION=cn-beijing the region is %q", got)
	}
	if got := regionOf(map[string]string{"OSS_ENDPOINT": srv.URL, "FC_REGION": "cn-beijing", "OSS_REGION": "oss-cn-shenzhen"}); got != "cn-shenzhen" {
		t.Errorf("with OSS_REGION=oss-cn-shenzhen the region is %q, want cn-shenzhen", got)
	}

	// A local test server (an IP or localhost) names no region and checks
	// none: the signature names the default, cn-hangzhou, rather than
	// the programs refusing to start.
	if got := regionOf(map[string]string{"OSS_ENDPOINT": srv.URL}); got != DefaultLocalRegion {
		t.Errorf("a loopback endpoint without a region signs for %q, want %q", got, DefaultLocalRegion)
	}
	// The contract's order: OSS_REGION, else FC_REGION, else the endpoint's.
	if got := regionOf(map[string]string{"OSS_ENDPOINT": srv.URL, "FC_REGION": "cn-beijing"}); got != "cn-beijing" {
		t.Errorf("FC_REGION before the endpoint: %q", got)
	}
	// Without OSS_REGION and FC_REGION the endpoint names the region.
	for ep, want := range map[string]string{
		"https://oss-cn-hangzhou-internal.aliyuncs.com": "cn-hangzhou",
		"oss-cn-shanghai.aliyuncs.com":                  "cn-shanghai",
		"https://cn-shenzhen.oss.aliyuncs.com":          "cn-shenzhen",
		// The bucket's own domain given as the endpoint.
		"https://" + testBucket + ".oss-cn-beijing.aliyuncs.com": "cn-beijing",
	} {
		b, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": ep})
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if !strings.Contains(b.String(), "region "+want) || strings.Contains(b.String(), testBucket+".oss") {
			t.Errorf("%s: %s, want region %s and the bucket out of the endpoint", ep, b, want)
		}
	}
}

// TestOSSCustomDomain: an endpoint that is a custom domain bound to the
// bucket is addressed in CNAME mode (no bucket in the host or the path):
// OSS_CNAME=true says so, and a host outside aliyuncs.com is taken to be
// one.
func TestOSSCustomDomain(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	ep := srv.CNAME(testBucket)
	loc := "oss://" + testBucket + "/api/"
	b, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": ep, "OSS_REGION": "cn-hangzhou", "OSS_CNAME": "true"})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, b, context.Background())
	host := strings.TrimPrefix(ep, "http://")
	for _, r := range srv.Requests() {
		if !r.CNAME || r.Host != host || r.Scheme != osstest.V4 {
			t.Errorf("%s %s came to host %q (cname %v, %s); want every request at %s signed V4", r.Method, r.Path, r.Host, r.CNAME, r.Scheme, host)
		}
		if strings.HasPrefix(r.Path, "/"+testBucket+"/"+testBucket) {
			t.Errorf("%s %s: the bucket was put in the path of a custom domain", r.Method, r.Path)
		}
	}
	if !strings.Contains(b.String(), "custom domain") {
		t.Errorf("String() = %s, want it to say custom domain", b)
	}

	// Decided by the host when OSS_CNAME is not set.
	for ep, cname := range map[string]bool{
		"https://config.example.com":                    true,
		"https://oss-cn-hangzhou.aliyuncs.com":          false,
		"https://oss-cn-hangzhou-internal.aliyuncs.com": false,
		srv.URL: false,
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1): false,
	} {
		b, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": ep, "OSS_REGION": "cn-hangzhou"})
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if got := strings.Contains(b.String(), "custom domain"); got != cname {
			t.Errorf("%s: %s; custom domain %v, want %v", ep, b, got, cname)
		}
	}
	b, err = openEnv(t, loc, map[string]string{"OSS_ENDPOINT": "https://config.example.com", "OSS_REGION": "cn-hangzhou", "OSS_CNAME": "false"})
	if err != nil || strings.Contains(b.String(), "custom domain") {
		t.Errorf("OSS_CNAME=false: %v %v, want no custom domain", b, err)
	}
	if _, err := openEnv(t, loc, map[string]string{"OSS_ENDPOINT": ep, "OSS_REGION": "cn-hangzhou", "OSS_CNAME": "maybe"}); err == nil || !strings.Contains(err.Error(), "OSS_CNAME") {
		t.Errorf("OSS_CNAME=maybe: %v, want an error naming OSS_CNAME", err)
	}
}

// TestOSSRefusalsExplained: each refusal OSS gives a new account (the
// public endpoint, a V1 signature) and the usual ones are said in words,
// with the fix, and without a key.
func TestOSSRefusalsExplained(t *testing.T) {
	srv := osstest.New(testBucket)
	defer srv.Close()
	b, err := openEnv(t, "oss://"+testBucket+"/api/", map[string]string{"OSS_ENDPOINT": srv.URL, "OSS_REGION": "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		fault osstest.Fault
		kind  error
		words []string // the explanation and the fix
	}{
		{"public endpoint", osstest.Fault{Status: 400, Code: "PublicEndpointForbidden"}, ErrPublicEndpoint,
			[]string{"public endpoint", "2025-03-20", "relay+https://", "SENTRY_WHITE_ADMIN_KEY", "custom domain", "-internal"}},
		{"V1 signature", osstest.V1Refused, ErrCredentials,
			[]string{"V1 signature", "V4", "update"}},
		{"access denied", osstest.Fault{Status: 403, Code: "AccessDenied"}, ErrCredentials,
			[]string{"not allowed", "RAM", "policy", "deploy/ram-policy"}},
		{"wrong region endpoint", osstest.Fault{Status: 403, Code: "AccessDenied", Message: "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."}, ErrWrongRegion,
			[]string{"another region", "OSS_ENDPOINT", "OSS_REGION"}},
		{"unknown key", osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"}, ErrCredentials,
			[]string{"AccessKey ID", "does not exist", "ALIBABA_CLOUD_ACCESS_KEY_ID"}},
		{"bad signature", osstest.Fault{Status: 403, Code: "SignatureDoesNotMatch"}, ErrCredentials,
			[]string{"secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "OSS_REGION", "cn-hangzhou"}},
		{"expired token", osstest.Fault{Status: 403, Code: "SecurityTokenExpired"}, ErrCredentials,
			[]string{"security token", "expired"}},
		{"clock", osstest.Fault{Status: 403, Code: "RequestTimeTooSkewed"}, ErrCredentials,
			[]string{"clock"}},
		{"no bucket", osstest.Fault{Status: 404, Code: "NoSuchBucket"}, ErrNoBucket,
			[]string{"does not exist", "create", testBucket, "region"}},
	}
	for _, c := range cases {
		srv.Fail(c.fault)
		_, err := b.Get(context.Background(), "api/v1/config.json", "")
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
		noKeys(t, err.Error(), envCreds)
	}
	srv.Fail(osstest.Fault{})
	srv.Close()
	_, err = b.Get(context.Background(), "api/v1/config.json", "")
	for _, w := range []string{"endpoint unreachable", "OSS_ENDPOINT", "-internal"} {
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), w) {
			t.Errorf("unreachable: %v, want ErrUnreachable saying %q", err, w)
		}
	}
}

func TestRegionFromEndpoint(t *testing.T) {
	for ep, want := range map[string]string{
		"oss-cn-hangzhou.aliyuncs.com":                      "cn-hangzhou",
		"https://oss-cn-hangzhou.aliyuncs.com":              "cn-hangzhou",
		"https://oss-cn-hangzhou-internal.aliyuncs.com/":    "cn-hangzhou",
		"http://oss-ap-southeast-1.aliyuncs.com:80":         "ap-southeast-1",
		"https://my-bucket.oss-cn-beijing.aliyuncs.com":     "cn-beijing",
		"https://cn-shenzhen.oss.aliyuncs.com":              "cn-shenzhen",
		"https://OSS-CN-SHANGHAI.ALIYUNCS.COM":              "cn-shanghai",
		"https://oss-accelerate.aliyuncs.com":               "",
		"https://oss-accelerate-overseas.aliyuncs.com":      "",
		"https://config.example.com":                        "",
		"https://oss-cn-hangzhou.aliyuncs.com.evil.example": "",
		"http://127.0.0.1:9000":                             "",
		"":                                                  "",
		"https://oss-.aliyuncs.com":                         "",
	} {
		if got := RegionFromEndpoint(ep); got != want {
			t.Errorf("RegionFromEndpoint(%q) = %q, want %q", ep, got, want)
		}
	}
}

func TestIsCustomDomain(t *testing.T) {
	for ep, want := range map[string]bool{
		"https://config.example.com":                    true,
		"cfg.example.cn":                                true,
		"https://oss-cn-hangzhou.aliyuncs.com":          false,
		"https://oss-cn-hangzhou-internal.aliyuncs.com": false,
		"http://127.0.0.1:9000":                         false,
		"http://[::1]:9000":                             false,
		"http://localhost:9000":                         false,
		"http://sw.localhost:9000":                      false,
		"":                                              false,
	} {
		if got := IsCustomDomain(ep); got != want {
			t.Errorf("IsCustomDomain(%q) = %v, want %v", ep, got, want)
		}
	}
}
