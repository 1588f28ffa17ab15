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
	"strings"
	"sync"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
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

// openOSS opens the backend for an oss:// location from the environment:
// OSS_ENDPOINT and ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// ALIBABA_CLOUD_SECURITY_TOKEN (what Function Compute sets for a function
// with a role). Without keys in the environment, every call must carry them
// in its context.
func openOSS(loc Location, getenv func(string) string) (Backend, error) {
	endpoint := strings.TrimSpace(getenv("OSS_ENDPOINT"))
	if endpoint == "" {
		return nil, fmt.Errorf("store %s: OSS_ENDPOINT is not set; set it to the bucket's region endpoint, e.g. https://oss-cn-hangzhou-internal.aliyuncs.com inside Function Compute in the same region, https://oss-cn-hangzhou.aliyuncs.com elsewhere", loc)
	}
	return NewOSS(OSSConfig{
		Endpoint: endpoint,
		Bucket:   loc.Bucket,
		Prefix:   loc.Prefix,
		Credentials: Credentials{
			AccessKeyID:     strings.TrimSpace(getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")),
			AccessKeySecret: strings.TrimSpace(getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")),
			SecurityToken:   strings.TrimSpace(getenv("ALIBABA_CLOUD_SECURITY_TOKEN")),
		},
	})
}

// NewOSS returns an OSS backend. It sends nothing; the first call reaches
// the endpoint.
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
		return nil, fmt.Errorf("oss: endpoint %q is not a URL like https://oss-cn-hangzhou.aliyuncs.com (OSS_ENDPOINT)", cfg.Endpoint)
	}
	if err := oss.CheckBucketName(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("oss: bucket %q: %w", cfg.Bucket, err)
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
	hc := &http.Client{
		Transport: tr,
		// OSS never redirects a signed request; following one would send
		// the signature elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	host := u.Hostname()
	return &OSS{
		cfg:      cfg,
		endpoint: u.Scheme + "://" + u.Host,
		// The SDK switches to path-style addressing for IP endpoints by
		// itself; "localhost" needs it forced (bucket.localhost does not
		// resolve).
		pathStyle: host == "localhost" || strings.HasSuffix(host, ".localhost"),
		http:      hc,
		listPage:  1000,
		clients:   map[string]*ossClient{},
		positions: map[string]int64{},
	}, nil
}

// String names the location and endpoint, never the keys.
func (o *OSS) String() string {
	return "oss://" + o.cfg.Bucket + "/" + o.cfg.Prefix + " at " + o.endpoint
}

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
	opts := []oss.ClientOption{oss.HTTPClient(o.http), oss.UserAgent("sentry-white")}
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
	data, err := io.ReadAll(io.LimitReader(body, maxObject+1))
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
	if errors.Is(err, ErrCredentials) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoBucket) || errors.Is(err, ErrUnreachable) {
		return &OSSError{Op: op, Key: key, Kind: err}
	}
	e := &OSSError{Op: op, Key: key}
	var se oss.ServiceError
	switch {
	case errors.As(err, &se):
		e.Status, e.Code, e.RequestID = se.StatusCode, se.Code, se.RequestID
		e.Detail = strings.TrimRight(strings.TrimSpace(scrub(se.Message, c)), ".")
		switch {
		case se.Code == "NoSuchBucket":
			e.Kind = ErrNoBucket
			e.Hint = fmt.Sprintf("create the private bucket %q in the endpoint's region, or fix the bucket in -store / the region in OSS_ENDPOINT (%s)", o.cfg.Bucket, o.endpoint)
		case se.Code == "NoSuchKey" || (se.StatusCode == http.StatusNotFound && se.Code == ""):
			e.Kind = ErrNotFound
		case se.StatusCode == http.StatusForbidden || se.StatusCode == http.StatusUnauthorized:
			e.Kind = ErrCredentials
			e.Hint = "check the AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN) or the function's RAM role and its policy on this bucket"
		}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Kind = ErrUnreachable
		e.Detail = "timed out waiting for " + o.endpoint
	case errors.Is(err, context.Canceled):
		e.Detail = "canceled"
	case isNetError(err):
		e.Kind = ErrUnreachable
		e.Detail = fmt.Sprintf("%s: %s", o.endpoint, scrub(netCause(err), c))
		e.Hint = "check OSS_ENDPOINT (an -internal endpoint works only inside Aliyun in the same region)"
	default:
		e.Detail = scrub(err.Error(), c)
	}
	return e
}

// OSSError is a failed OSS call. Its text names the step; it never holds
// keys.
type OSSError struct {
	Op        string // get, put, head, list, delete, append
	Key       string
	Kind      error // ErrCredentials, ErrNoBucket, ErrNotFound, ErrUnreachable or nil
	Status    int   // HTTP status when OSS answered
	Code      string
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
