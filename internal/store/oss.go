package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/sentry-white/sentry-white/internal/tlsroots"
)

// Errors an OSS backend wraps so callers can say which step failed; test
// them with errors.Is. A missing object wraps ErrNotFound.
var (
	// ErrCredentials: OSS refused the keys or the policy denies the call
	// (403 InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, ...).
	ErrCredentials = errors.New("credentials refused")
	// ErrNoBucket: the bucket does not exist at this endpoint (NoSuchBucket).
	ErrNoBucket = errors.New("bucket missing")
	// ErrUnreachable: the endpoint could not be reached or did not answer in
	// time.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrPublicEndpoint: OSS refuses data calls through its public endpoint
	// for this account (PublicEndpointForbidden).
	ErrPublicEndpoint = errors.New("public endpoint refused")
	// ErrWrongRegion: the bucket is in another region than the endpoint's.
	ErrWrongRegion = errors.New("wrong region")
)

// Defaults for an OSS backend's timeouts. The relay answers Sentry within a
// few seconds and keeps its last good document when a read fails, so a
// store that does not answer must fail fast rather than hold webhooks.
const (
	DefaultOSSConnectTimeout = 3 * time.Second
	DefaultOSSTimeout        = 5 * time.Second
)

// maxObject bounds what Get reads into memory (the function may have 128 MB).
const maxObject = 32 << 20

// maxClients bounds the per-AccessKey client cache: Function Compute rotates
// a role's keys, so old entries are dropped rather than kept forever.
const maxClients = 8

// OSSConfig configures an OSS backend.
type OSSConfig struct {
	// Endpoint is the region endpoint, e.g.
	// https://oss-cn-hangzhou-internal.aliyuncs.com or http://127.0.0.1:PORT
	// (an endpoint without a scheme gets https://).
	Endpoint string
	Bucket   string
	// Prefix is the key prefix of the location (only used in String).
	Prefix string
	// Region is the bucket's region ID, e.g. cn-hangzhou, which V4
	// signatures name; "" means the region the endpoint names
	// (oss-cn-hangzhou[-internal].aliyuncs.com). NewOSS fails when neither
	// gives one.
	Region string
	// CNAME says whether Endpoint is a custom domain bound to the bucket
	// (requests then go to the domain itself, without the bucket in the
	// host or the path); CNAMEAuto decides by the host (see IsCustomDomain).
	CNAME CNAMEMode
	// Credentials are the keys used when the request's context carries none
	// (see WithCredentials). Empty means every call must bring its own.
	Credentials Credentials
	// ConnectTimeout bounds the TCP and TLS handshake; 0 means
	// DefaultOSSConnectTimeout.
	ConnectTimeout time.Duration
	// Timeout bounds each call end to end (a shorter context deadline
	// wins); 0 means DefaultOSSTimeout.
	Timeout time.Duration
}

// OSS is a Backend on an Aliyun OSS bucket through the official SDK. It is
// safe for concurrent use. Each call signs with the credentials in its
// context when present (Function Compute's per-request role keys, which
// rotate), else with the configured ones; one SDK client is kept per
// AccessKey ID. Keys never appear in its errors.
type OSS struct {
	cfg       OSSConfig
	endpoint  string
	region    string
	cname     bool
	pathStyle bool
	http      *http.Client
	listPage  int // keys per ListObjectsV2 page (1000, the maximum)

	mu      sync.Mutex
	clients map[string]*ossClient // by AccessKey ID

	appendMu  sync.Mutex
	positions map[string]int64 // key -> next append position, as last seen
	noAppend  bool             // the server does not implement AppendObject
}

type ossClient struct {
	creds  Credentials
	bucket *oss.Bucket
}

var _ Backend = (*OSS)(nil)
var _ Appender = (*OSS)(nil)

// CNAMEMode says how an endpoint is addressed.
type CNAMEMode int

// CNAME modes.
const (
	CNAMEAuto CNAMEMode = iota // a custom domain when IsCustomDomain says so
	CNAMEOn                    // a custom domain bound to the bucket
	CNAMEOff                   // an OSS endpoint (bucket.endpoint, or path style)
)

// openOSS opens the backend for an oss:// location from the environment:
// OSS_ENDPOINT, OSS_REGION (else FC_REGION, else the endpoint's region),
// OSS_CNAME, and ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// ALIBABA_CLOUD_SECURITY_TOKEN (what Function Compute sets for a function
// with a role). Without keys in the environment, every call must carry them
// in its context.
func openOSS(loc Location, getenv func(string) string) (Backend, error) {
	endpoint := strings.TrimSpace(getenv("OSS_ENDPOINT"))
	if endpoint == "" {
		return nil, fmt.Errorf("store %s: OSS_ENDPOINT is not set; set it to the bucket's endpoint: https://oss-cn-hangzhou-internal.aliyuncs.com inside Function Compute in the bucket's region, a custom domain bound to the bucket elsewhere (accounts that activated OSS since 2025-03-20 cannot use the public endpoint https://oss-cn-hangzhou.aliyuncs.com), or use the relay as the store: -store relay+https://<function URL>", loc)
	}
	// The contract's order: OSS_REGION, else the function's region (FC sets
	// FC_REGION; the deploy guide puts the bucket in it), else the region
	// the endpoint names. A bucket in another region than the function
	// needs OSS_REGION (a wrong region is explained as such).
	region := strings.TrimSpace(getenv("OSS_REGION"))
	if region == "" {
		region = strings.TrimSpace(getenv("FC_REGION"))
	}
	cname, err := parseCNAME(getenv("OSS_CNAME"))
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", loc, err)
	}
	return NewOSS(OSSConfig{
		Endpoint: endpoint,
		Bucket:   loc.Bucket,
		Prefix:   loc.Prefix,
		Region:   region,
		CNAME:    cname,
		Credentials: Credentials{
			AccessKeyID:     strings.TrimSpace(getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")),
			AccessKeySecret: strings.TrimSpace(getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")),
			SecurityToken:   strings.TrimSpace(getenv("ALIBABA_CLOUD_SECURITY_TOKEN")),
		},
	})
}

// parseCNAME reads OSS_CNAME: true or false, or empty to decide by the host.
func parseCNAME(v string) (CNAMEMode, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return CNAMEAuto, nil
	case "true", "1", "yes", "on":
		return CNAMEOn, nil
	case "false", "0", "no", "off":
		return CNAMEOff, nil
	}
	return CNAMEAuto, fmt.Errorf("OSS_CNAME=%q: use true (OSS_ENDPOINT is a custom domain bound to the bucket) or false (an OSS endpoint), or leave it unset to decide by the host", v)
}

// endpointHost is the host name of an endpoint, with or without a scheme.
func endpointHost(endpoint string) string {
	ep := strings.TrimSpace(endpoint)
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// DefaultLocalRegion is the region signed for when the endpoint is a local
// S3/OSS-compatible server (an IP address or localhost) and neither
// OSS_REGION nor FC_REGION names one: such a server has no region to
// name, and the programs should not refuse to start for it.
const DefaultLocalRegion = "cn-hangzhou"

// RegionFromEndpoint returns the region ID an OSS endpoint names:
// cn-hangzhou for oss-cn-hangzhou.aliyuncs.com, oss-cn-hangzhou-internal.
// aliyuncs.com, BUCKET.oss-cn-hangzhou.aliyuncs.com or the dual-stack
// cn-hangzhou.oss.aliyuncs.com, with or without a scheme; "" for any other
// host (a custom domain, an IP address, the global acceleration endpoint).
func RegionFromEndpoint(endpoint string) string {
	host := endpointHost(endpoint)
	rest, ok := strings.CutSuffix(host, ".aliyuncs.com")
	if !ok {
		return ""
	}
	labels := strings.Split(rest, ".")
	for i, l := range labels {
		if l == "oss" && i > 0 { // <region>.oss.aliyuncs.com
			return validRegion(labels[i-1])
		}
		if r, ok := strings.CutPrefix(l, "oss-"); ok && i == len(labels)-1 {
			if strings.HasPrefix(r, "accelerate") || strings.HasPrefix(r, "rg-") {
				return ""
			}
			return validRegion(strings.TrimSuffix(r, "-internal"))
		}
	}
	return ""
}

// validRegion returns r when it looks like a region ID (cn-hangzhou,
// ap-southeast-1), else "".
func validRegion(r string) string {
	if len(r) < 4 || len(r) > 40 || !strings.Contains(r, "-") || strings.Trim(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" ||
		strings.HasPrefix(r, "-") || strings.HasSuffix(r, "-") {
		return ""
	}
	return r
}

// IsCustomDomain reports whether an endpoint is taken to be a custom domain
// bound to a bucket: a host name outside aliyuncs.com that is not an IP
// address or localhost.
func IsCustomDomain(endpoint string) bool {
	host := endpointHost(endpoint)
	switch {
	case host == "", net.ParseIP(host) != nil, host == "localhost", strings.HasSuffix(host, ".localhost"),
		host == "aliyuncs.com", strings.HasSuffix(host, ".aliyuncs.com"):
		return false
	}
	return true
}

// NewOSS returns an OSS backend that signs with V4. It sends nothing; the
// first call reaches the endpoint.
func NewOSS(cfg OSSConfig) (*OSS, error) {
	ep := strings.TrimRight(strings.TrimSpace(cfg.Endpoint), "/")
	if ep == "" {
		return nil, errors.New("oss: the endpoint is empty (OSS_ENDPOINT)")
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("oss: endpoint %q is not a URL like https://oss-cn-hangzhou-internal.aliyuncs.com or https://config.example.com (OSS_ENDPOINT)", cfg.Endpoint)
	}
	if err := oss.CheckBucketName(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("oss: bucket %q: %w", cfg.Bucket, err)
	}
	host := strings.ToLower(u.Hostname())
	// The bucket's own domain (BUCKET.oss-cn-hangzhou.aliyuncs.com) given as
	// the endpoint: the SDK adds the bucket itself.
	if h, ok := strings.CutPrefix(host, cfg.Bucket+"."); ok && strings.HasSuffix(h, ".aliyuncs.com") {
		host = h
		u.Host = h
		if p := u.Port(); p != "" {
			u.Host = net.JoinHostPort(h, p)
		}
	}
	region := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(cfg.Region)), "oss-")
	if region != "" && validRegion(region) == "" {
		return nil, fmt.Errorf("oss: region %q is not a region ID such as cn-hangzhou (OSS_REGION)", cfg.Region)
	}
	if region == "" {
		region = RegionFromEndpoint(u.Host)
	}
	if region == "" && (host == "localhost" || net.ParseIP(host) != nil) {
		region = DefaultLocalRegion // a local test server: no region to name, none checked
	}
	if region == "" {
		return nil, fmt.Errorf("oss: the bucket's region is unknown for endpoint %s: set OSS_REGION to the bucket's region ID, e.g. cn-hangzhou (V4 signatures name it; on Function Compute FC_REGION is used when the endpoint names no region)", u.Scheme+"://"+u.Host)
	}
	cname := cfg.CNAME == CNAMEOn || cfg.CNAME == CNAMEAuto && IsCustomDomain(u.Host)
	if cname && net.ParseIP(host) != nil {
		return nil, fmt.Errorf("oss: endpoint %s is an IP address, which cannot be a custom domain (OSS_CNAME)", u.Scheme+"://"+u.Host)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultOSSConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultOSSTimeout
	}
	// One transport for every client: rotating keys must not leak
	// connection pools. The SDK's own retry setting is unused by the calls
	// made here; a failed call fails once and the caller decides.
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		IdleConnTimeout:       60 * time.Second,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16,
	}
	tlsroots.Apply(tr) // the system's roots read at the first handshake, few of them parsed
	hc := &http.Client{
		Transport: tr,
		// OSS never redirects a signed request; following one would send
		// the signature elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &OSS{
		cfg:      cfg,
		endpoint: u.Scheme + "://" + u.Host,
		region:   region,
		cname:    cname,
		// The SDK switches to path-style addressing for IP endpoints by
		// itself; "localhost" needs it forced (bucket.localhost does not
		// resolve).
		pathStyle: !cname && (host == "localhost" || strings.HasSuffix(host, ".localhost")),
		http:      hc,
		listPage:  1000,
		clients:   map[string]*ossClient{},
		positions: map[string]int64{},
	}, nil
}

// String names the location and endpoint, never the keys.
func (o *OSS) String() string {
	s := "oss://" + o.cfg.Bucket + "/" + o.cfg.Prefix + " at " + o.endpoint
	if o.cname {
		s += " (custom domain)"
	}
	return s + ", region " + o.region
}

// Region is the region the backend signs for.
func (o *OSS) Region() string { return o.region }

// credentials returns the keys for a call: the context's, else the
// configured ones.
func (o *OSS) credentials(ctx context.Context) (Credentials, error) {
	if c, ok := CredentialsFrom(ctx); ok {
		return c, nil
	}
	c := o.cfg.Credentials
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return Credentials{}, fmt.Errorf("%w: no OSS credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or attach a RAM role to the function", ErrCredentials)
	}
	return c, nil
}

// bucket returns the SDK bucket handle for the call's credentials, creating
// and caching a client per AccessKey ID.
func (o *OSS) bucket(ctx context.Context) (*oss.Bucket, Credentials, error) {
	c, err := o.credentials(ctx)
	if err != nil {
		return nil, Credentials{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if cl, ok := o.clients[c.AccessKeyID]; ok && cl.creds == c {
		return cl.bucket, c, nil
	}
	// V4 signatures: OSS refuses V1 for accounts created since 2025-03-01
	// and buckets created since 2025-09-01.
	opts := []oss.ClientOption{oss.HTTPClient(o.http), oss.UserAgent("sentry-white"),
		oss.AuthVersion(oss.AuthV4), oss.Region(o.region)}
	if o.cname {
		opts = append(opts, oss.UseCname(true))
	}
	if c.SecurityToken != "" {
		opts = append(opts, oss.SecurityToken(c.SecurityToken))
	}
	if o.pathStyle {
		opts = append(opts, oss.ForcePathStyle(true))
	}
	client, err := oss.New(o.endpoint, c.AccessKeyID, c.AccessKeySecret, opts...)
	if err != nil {
		return nil, c, fmt.Errorf("oss: client for %s: %s", o.endpoint, scrub(err.Error(), c))
	}
	b, err := client.Bucket(o.cfg.Bucket)
	if err != nil {
		return nil, c, fmt.Errorf("oss: bucket %q: %s", o.cfg.Bucket, scrub(err.Error(), c))
	}
	if len(o.clients) >= maxClients {
		for id := range o.clients {
			delete(o.clients, id)
			if len(o.clients) < maxClients {
				break
			}
		}
	}
	o.clients[c.AccessKeyID] = &ossClient{creds: c, bucket: b}
	return b, c, nil
}

// call prepares one SDK call: its bucket handle, credentials and a context
// bounded by the configured timeout.
func (o *OSS) call(ctx context.Context) (*oss.Bucket, Credentials, context.Context, context.CancelFunc, error) {
	b, c, err := o.bucket(ctx)
	if err != nil {
		return nil, c, nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	return b, c, cctx, cancel, nil
}

// Get reads key; with ifNoneMatch equal to the current ETag it returns
// ErrNotModified (OSS answers 304 and sends no body).
func (o *OSS) Get(ctx context.Context, key, ifNoneMatch string) (Object, error) {
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return Object{}, o.wrap("get", key, err, c)
	}
	defer cancel()
	var hdr http.Header
	opts := []oss.Option{oss.WithContext(cctx), oss.GetResponseHeader(&hdr)}
	if ifNoneMatch != "" {
		opts = append(opts, oss.IfNoneMatch(ifNoneMatch))
	}
	body, err := b.GetObject(key, opts...)
	if err != nil {
		if isNotModified(err) {
			tag := hdr.Get("ETag")
			if tag == "" {
				tag = ifNoneMatch
			}
			return Object{ETag: tag}, ErrNotModified
		}
		return Object{}, o.wrap("get", key, err, c)
	}
	defer body.Close()
	data, err := readSized(body, hdr.Get("Content-Length"))
	if err != nil {
		return Object{}, o.wrap("get", key, err, c)
	}
	if len(data) > maxObject {
		return Object{}, fmt.Errorf("oss get %s: the object is over %d MiB", key, maxObject>>20)
	}
	return Object{Data: data, ETag: hdr.Get("ETag")}, nil
}

// head returns key's response headers; a missing key wraps ErrNotFound.
func (o *OSS) head(ctx context.Context, key string) (http.Header, error) {
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return nil, o.wrap("head", key, err, c)
	}
	defer cancel()
	h, err := b.GetObjectDetailedMeta(key, oss.WithContext(cctx))
	if err != nil {
		return nil, o.wrap("head", key, err, c)
	}
	return h, nil
}

// Put writes key in one PutObject and returns the new ETag.
//
// OSS has no If-Match on PutObject, so the compare-and-swap reads the
// current ETag (HEAD) right before the PUT and refuses with ErrConflict when
// it differs from ifMatch. A writer that PUTs between our HEAD and our PUT
// (a window of one round trip, tens of milliseconds) is overwritten; with a
// single configurator editing at human speed that is acceptable, and the
// document history keeps the overwritten version. A create (ifMatch "") also
// sends x-oss-forbid-overwrite, which OSS enforces atomically.
func (o *OSS) Put(ctx context.Context, key string, data []byte, ifMatch *string) (string, error) {
	if ifMatch != nil {
		cur := ""
		h, err := o.head(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			if *ifMatch != "" {
				return "", fmt.Errorf("oss put %s: %w (it was deleted)", key, ErrConflict)
			}
		case err != nil:
			return "", err
		default:
			cur = h.Get("ETag")
			if *ifMatch == "" || !sameETag(cur, *ifMatch) {
				return "", fmt.Errorf("oss put %s: %w", key, ErrConflict)
			}
		}
	}
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return "", o.wrap("put", key, err, c)
	}
	defer cancel()
	var hdr http.Header
	opts := []oss.Option{oss.WithContext(cctx), oss.GetResponseHeader(&hdr)}
	if strings.HasSuffix(key, ".json") {
		opts = append(opts, oss.ContentType("application/json"))
	}
	if ifMatch != nil && *ifMatch == "" {
		opts = append(opts, oss.ForbidOverWrite(true))
	}
	if err := b.PutObject(key, bytes.NewReader(data), opts...); err != nil {
		var se oss.ServiceError
		if errors.As(err, &se) && se.StatusCode == http.StatusConflict && se.Code == "FileAlreadyExists" {
			return "", fmt.Errorf("oss put %s: %w (it was created meanwhile)", key, ErrConflict)
		}
		return "", o.wrap("put", key, err, c)
	}
	return hdr.Get("ETag"), nil
}

// readSized reads at most maxObject+1 bytes of body into a buffer sized
// from its announced length: io.ReadAll grows from 512 bytes, copying a
// document of 1,000 projects (350 KB) ten times, 12 % of a cold relay's
// CPU profile before its first answer.
func readSized(body io.Reader, length string) ([]byte, error) {
	n, err := strconv.ParseInt(length, 10, 64)
	if err != nil || n < 0 || n > maxObject {
		return io.ReadAll(io.LimitReader(body, maxObject+1))
	}
	// ReadFrom wants MinRead bytes free before each read, the one that
	// sees the end included.
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(body, maxObject+1))
	return buf.Bytes(), err
}

// sameETag compares two ETags, ignoring quotes and hex case.
func sameETag(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, `"`), strings.Trim(b, `"`))
}

// List returns the keys under prefix, sorted, following continuation
// tokens.
func (o *OSS) List(ctx context.Context, prefix string) ([]string, error) {
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return nil, o.wrap("list", prefix, err, c)
	}
	defer cancel()
	var keys []string
	token := ""
	for {
		opts := []oss.Option{oss.WithContext(cctx), oss.Prefix(prefix), oss.MaxKeys(o.listPage)}
		if token != "" {
			opts = append(opts, oss.ContinuationToken(token))
		}
		res, err := b.ListObjectsV2(opts...)
		if err != nil {
			return nil, o.wrap("list", prefix, err, c)
		}
		for _, obj := range res.Objects {
			keys = append(keys, obj.Key)
		}
		if !res.IsTruncated || res.NextContinuationToken == "" {
			break
		}
		token = res.NextContinuationToken
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes key; OSS answers success for a missing key.
func (o *OSS) Delete(ctx context.Context, key string) error {
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return o.wrap("delete", key, err, c)
	}
	defer cancel()
	if err := b.DeleteObject(key, oss.WithContext(cctx)); err != nil {
		err = o.wrap("delete", key, err, c)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// isNotModified reports the SDK's answer to a 304: a plain error, not a
// ServiceError.
func isNotModified(err error) bool {
	var se oss.ServiceError
	return err != nil && !errors.As(err, &se) &&
		strings.HasPrefix(err.Error(), "oss: service returned 304")
}

// wrap turns an SDK or network error into one that names the operation, the
// key and the failed step, with every key scrubbed from its text.
func (o *OSS) wrap(op, key string, err error, c Credentials) error {
	if errors.Is(err, ErrCredentials) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoBucket) || errors.Is(err, ErrUnreachable) ||
		errors.Is(err, ErrPublicEndpoint) || errors.Is(err, ErrWrongRegion) {
		return &OSSError{Op: op, Key: key, Kind: err}
	}
	e := &OSSError{Op: op, Key: key}
	var se oss.ServiceError
	switch {
	case errors.As(err, &se):
		e.Status, e.Code, e.EC, e.RequestID = se.StatusCode, se.Code, se.Ec, se.RequestID
		e.Detail = strings.TrimRight(strings.TrimSpace(scrub(se.Message, c)), ".")
		e.Kind, e.Hint = o.explain(se)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Kind = ErrUnreachable
		e.Detail = "timed out waiting for " + o.endpoint
	case errors.Is(err, context.Canceled):
		e.Detail = "canceled"
	case isNetError(err):
		e.Kind = ErrUnreachable
		e.Detail = fmt.Sprintf("%s: %s", o.endpoint, scrub(netCause(err), c))
		e.Hint = "check OSS_ENDPOINT and this computer's network (an -internal endpoint works only inside Aliyun in the bucket's region)"
	default:
		e.Detail = scrub(err.Error(), c)
	}
	return e
}

// explain classifies an answer of OSS and says how to fix it.
func (o *OSS) explain(se oss.ServiceError) (kind error, hint string) {
	msg := strings.ToLower(se.Message)
	switch {
	case se.Code == "NoSuchKey" || (se.StatusCode == http.StatusNotFound && se.Code == ""):
		return ErrNotFound, ""
	case se.Code == "NoSuchBucket":
		return ErrNoBucket, fmt.Sprintf("create the private bucket %q in region %s, or fix the bucket in the store location, OSS_ENDPOINT or OSS_REGION (now %s, region %s)",
			o.cfg.Bucket, o.region, o.endpoint, o.region)
	case se.Code == "PublicEndpointForbidden" || se.Ec == "0048-00000401":
		return ErrPublicEndpoint, fmt.Sprintf("OSS does not let this account read or write objects through the public endpoint %s "+
			"(accounts that activated OSS on or after 2025-03-20, buckets in the Chinese mainland). Fix: edit the configuration through the relay "+
			"(-store relay+https://<function URL>, with SENTRY_WHITE_ADMIN_KEY set on the function and given to the configurator), "+
			"or bind a custom domain to the bucket and set OSS_ENDPOINT to it (with OSS_REGION=%s), "+
			"or, from inside Aliyun in the bucket's region, use the -internal endpoint", o.endpoint, o.region)
	case se.Ec == "0002-00000080" || se.StatusCode == http.StatusForbidden && strings.Contains(msg, "v1 signature"):
		return ErrCredentials, "OSS refused a V1 signature: accounts created since 2025-03-01 and buckets created since 2025-09-01 accept only V4. " +
			"This version of sentry-white signs with V4 (region " + o.region + "); update any older copy in front of this bucket " +
			"(make fc-zip and redeploy the relay; use the current configurator)"
	case se.Endpoint != "" || strings.Contains(msg, "must be addressed using the specified endpoint"):
		ep := "the bucket's region endpoint"
		if se.Endpoint != "" {
			ep = se.Endpoint
		}
		return ErrWrongRegion, fmt.Sprintf("the bucket %q is in another region than %s: set OSS_ENDPOINT to %s and OSS_REGION to the bucket's region", o.cfg.Bucket, o.endpoint, ep)
	case se.StatusCode != http.StatusForbidden && se.StatusCode != http.StatusUnauthorized:
		return nil, ""
	}
	switch se.Code {
	case "InvalidAccessKeyId":
		return ErrCredentials, "the AccessKey ID does not exist or is disabled: check ALIBABA_CLOUD_ACCESS_KEY_ID (the configurator's settings page keeps its own), or on Function Compute the function's RAM role"
	case "SignatureDoesNotMatch":
		return ErrCredentials, "the AccessKey secret does not match the ID, or the region is not the bucket's: check ALIBABA_CLOUD_ACCESS_KEY_SECRET, and that OSS_REGION (now " + o.region + ") is the bucket's region"
	case "InvalidSecurityToken", "SecurityTokenExpired", "AccessKeyIdAndSecurityTokenNotMatch":
		return ErrCredentials, "the security token is invalid or expired: ALIBABA_CLOUD_SECURITY_TOKEN belongs to other or expired temporary keys; unset it with long-term keys, or on Function Compute let the function's role provide fresh ones"
	case "RequestTimeTooSkewed":
		return ErrCredentials, "this computer's clock differs from OSS's by more than 15 minutes: set the clock automatically (NTP)"
	case "AccessDenied":
		return ErrCredentials, fmt.Sprintf("the key or the function's RAM role is not allowed this call on bucket %q: attach a RAM policy that allows it "+
			"(deploy/ram-policy-configurator.json for the configurator's key; deploy/ram-policy-relay.json, ram-policy-relay-deliveries.json "+
			"and, for the admin API, ram-policy-relay-admin.json for the relay's role), with YOUR-BUCKET replaced by %q", o.cfg.Bucket, o.cfg.Bucket)
	}
	return ErrCredentials, "check the AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN) or the function's RAM role and its policy on this bucket"
}

// OSSError is a failed OSS call. Its text names the step; it never holds
// keys.
type OSSError struct {
	Op        string // get, put, head, list, delete, append
	Key       string
	Kind      error // ErrCredentials, ErrNoBucket, ErrNotFound, ErrUnreachable, ErrPublicEndpoint, ErrWrongRegion or nil
	Status    int   // HTTP status when OSS answered
	Code      string
	EC        string // OSS's detailed error code, e.g. 0048-00000401
	RequestID string
	Detail    string
	Hint      string
}

func (e *OSSError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "oss %s %s: ", e.Op, e.Key)
	if e.Kind != nil {
		sb.WriteString(e.Kind.Error())
	} else {
		sb.WriteString("failed")
	}
	if e.Status != 0 {
		fmt.Fprintf(&sb, " (HTTP %d", e.Status)
		if e.Code != "" {
			sb.WriteString(" " + e.Code)
		}
		if e.EC != "" && e.EC != "0002-00000000" {
			sb.WriteString(", EC " + e.EC)
		}
		if e.RequestID != "" {
			sb.WriteString(", request " + e.RequestID)
		}
		sb.WriteString(")")
	}
	if e.Detail != "" && (e.Kind == nil || e.Detail != e.Kind.Error()) {
		sb.WriteString(": " + e.Detail)
	}
	if e.Hint != "" {
		sb.WriteString("; " + e.Hint)
	}
	return sb.String()
}

func (e *OSSError) Unwrap() error { return e.Kind }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isNetError(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &oe) || errors.As(err, &de) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// netCause is the innermost message of a network error, without the
// request URL that *url.Error prepends.
func netCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// scrub removes key material from text that came from the SDK or the
// server (an error body may echo the AccessKey ID).
func scrub(s string, c Credentials) string {
	for _, k := range []string{c.AccessKeySecret, c.SecurityToken, c.AccessKeyID} {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "***")
		}
	}
	return s
}
