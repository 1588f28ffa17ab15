// Package osstest runs an S3/OSS-protocol server on loopback for tests:
// gofakes3 with an in-memory backend, wrapped to record every request (so
// tests can count store reads and check the credentials and the signature
// scheme each call signed with) and to fail on demand the way OSS does
// (error XML, or no answer). Like OSS for an account opened today, it
// refuses requests that are not signed with V4 (OSS4-HMAC-SHA256). The real
// OSS SDK talks to it over HTTP; objects are seeded through the backend
// directly, costing no request. CNAME serves one bucket at the root of
// another address, the way a custom domain bound to a bucket does.
package osstest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Request is one request the server received.
type Request struct {
	Method   string
	Path     string // /BUCKET/KEY (path style)
	RawQuery string
	Header   http.Header
	// AccessKeyID is the key the request was signed with (V1 or V4).
	AccessKeyID   string
	SecurityToken string // x-oss-security-token
	// Scheme is the Authorization scheme: "OSS4-HMAC-SHA256" (V4), "OSS"
	// (V1), "OSS2", or "" for an unsigned request.
	Scheme string
	// Region is the region of a V4 signature's credential scope
	// (Credential=<id>/<date>/<region>/oss/aliyun_v4_request).
	Region string
	// Host is the Host header; CNAME is set for a request that came through
	// the CNAME address (Path is then the path after mapping, /BUCKET/KEY).
	Host   string
	CNAME  bool
	Status int // the status answered
}

// V4 is the Authorization scheme of OSS's V4 signature.
const V4 = "OSS4-HMAC-SHA256"

// V1Refused is how the server answers a request not signed with V4 (OSS's
// EC 0002-00000080 for an account created since 2025-03-01).
var V1Refused = Fault{Status: 403, Code: "AccessDenied", EC: "0002-00000080",
	Message: "The V1 signature is no longer supported, please use the V4 signature."}

// Fault is how the server answers while failing.
type Fault struct {
	Status int    // HTTP status, e.g. 403, 404, 500
	Code   string // OSS error code, e.g. InvalidAccessKeyId
	// Message overrides the error message OSS would send for Code.
	Message string
	// EC is OSS's detailed error code (the <EC> element and x-oss-ec), e.g.
	// 0048-00000401 for PublicEndpointForbidden; "" means the one OSS sends
	// for Code.
	EC string
	// Hang holds each request until the client gives up (or Close).
	Hang bool
}

// Server is a loopback S3/OSS server.
type Server struct {
	// URL is the endpoint to give the OSS SDK (OSS_ENDPOINT), e.g.
	// http://127.0.0.1:PORT.
	URL     string
	Backend *s3mem.Backend
	// AllowV1 accepts requests signed with V1 (as OSS did for accounts
	// created before 2025-03-01); by default they get V1Refused.
	AllowV1 bool

	srv    *httptest.Server
	fronts []*httptest.Server
	fake   http.Handler
	closed chan struct{}
	once   sync.Once

	mu    sync.Mutex
	reqs  []Request
	fault Fault
	// createMu makes a create (x-oss-forbid-overwrite) one step, as OSS does.
	createMu sync.Mutex
}

// New starts a server holding the given (empty) buckets.
func New(buckets ...string) *Server {
	be := s3mem.New()
	for _, b := range buckets {
		if err := be.CreateBucket(b); err != nil {
			panic(fmt.Sprintf("osstest: create bucket %q: %v", b, err))
		}
	}
	s := &Server{Backend: be, fake: gofakes3.New(be).Server(), closed: make(chan struct{})}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close stops the server and its CNAME fronts; later requests are refused
// (connection refused).
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.mu.Lock()
	fronts := s.fronts
	s.mu.Unlock()
	for _, f := range fronts {
		f.Close()
	}
	s.srv.Close()
}

// CNAME starts an address that serves bucket at its root, as a custom
// domain bound to the bucket does: GET /KEY there is GET /BUCKET/KEY here.
// It returns the endpoint as http://localhost:PORT (a host name, since the
// SDK never uses CNAME addressing for an IP address).
func (s *Server) CNAME(bucket string) string {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + bucket + r.URL.Path
		r2.URL.RawPath = ""
		if r.URL.RawPath != "" {
			r2.URL.RawPath = "/" + bucket + r.URL.RawPath
		}
		r2.RequestURI = r2.URL.RequestURI()
		s.serve(w, r2, true)
	}))
	s.mu.Lock()
	s.fronts = append(s.fronts, front)
	s.mu.Unlock()
	return strings.Replace(front.URL, "127.0.0.1", "localhost", 1)
}

// Seed stores an object directly in the backend (no request is recorded).
func (s *Server) Seed(bucket, key string, data []byte) error {
	meta := map[string]string{}
	if strings.HasSuffix(key, ".json") {
		meta["Content-Type"] = "application/json"
	}
	_, err := s.Backend.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// Object reads an object directly from the backend.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, false
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	return b, err == nil
}

// Fail makes every following request fail with f; Fail(Fault{}) heals.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count is the number of requests received so far; Since(n) returns those
// after the first n.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Since returns the requests after the first n.
func (s *Server) Since(n int) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > len(s.reqs) {
		return nil
	}
	return append([]Request(nil), s.reqs[n:]...)
}

// ServeHTTP records the request and answers it (or fails it).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request, cname bool) {
	auth := r.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(auth, " ")
	rec := Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(),
		AccessKeyID: AccessKeyID(auth), SecurityToken: r.Header.Get("x-oss-security-token"),
		Scheme: scheme, Region: V4Region(auth), Host: r.Host, CNAME: cname,
	}
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	switch {
	case !s.AllowV1 && scheme != V4 && f.Status == 0 && !f.Hang:
		writeError(sw, r, V1Refused, rec.AccessKeyID)
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		sw.status = 0
	case f.Status != 0:
		writeError(sw, r, f, rec.AccessKeyID)
	case r.Method == http.MethodPut && strings.EqualFold(r.Header.Get("x-oss-forbid-overwrite"), "true"):
		s.create(sw, r, rec.AccessKeyID)
	default:
		s.fake.ServeHTTP(sw, r)
	}
	rec.Status = sw.status
	s.mu.Lock()
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()
}

// create is a PutObject with x-oss-forbid-overwrite: true, which OSS
// refuses, atomically, with 409 FileAlreadyExists when the key exists
// (gofakes3 ignores the header). Claims of timed work rely on it.
func (s *Server) create(w http.ResponseWriter, r *http.Request, akid string) {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if obj, err := s.Backend.HeadObject(bucket, key); err == nil {
		obj.Contents.Close()
		writeError(w, r, Fault{Status: http.StatusConflict, Code: "FileAlreadyExists"}, akid)
		return
	}
	s.fake.ServeHTTP(w, r)
}

// writeError answers like OSS: error XML in the body, or for HEAD (no body)
// base64 in x-oss-err. The XML echoes the AccessKey ID as OSS does, so
// tests can check that clients keep it out of their errors.
func writeError(w http.ResponseWriter, r *http.Request, f Fault, akid string) {
	msg := map[string]string{
		"InvalidAccessKeyId":      "The OSS Access Key Id you provided does not exist in our records.",
		"SignatureDoesNotMatch":   "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		"AccessDenied":            "You have no right to access this object because of bucket acl.",
		"NoSuchBucket":            "The specified bucket does not exist.",
		"NoSuchKey":               "The specified key does not exist.",
		"InternalError":           "We encountered an internal error. Please try again.",
		"PublicEndpointForbidden": "Not allowed using the OSS public endpoint, please use CNAME instead.",
		"InvalidSecurityToken":    "The security token you provided is invalid.",
		"SecurityTokenExpired":    "The security token you provided has expired.",
		"RequestTimeTooSkewed":    "The difference between the request time and the current time is too large.",
		"FileAlreadyExists":       "The object you specified already exists and can not be overwritten.",
	}[f.Code]
	ec := f.EC
	if ec == "" {
		ec = map[string]string{"PublicEndpointForbidden": "0048-00000401"}[f.Code]
	}
	if ec == "" {
		ec = "0002-00000000"
	}
	if f.Message != "" {
		msg = f.Message
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>%s</Code>
  <Message>%s</Message>
  <RequestId>5F3A0C8E2B1D4E0001ABCDEF</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <OSSAccessKeyId>%s</OSSAccessKeyId>
  <EC>%s</EC>
</Error>`, f.Code, msg, akid, ec)
	w.Header().Set("x-oss-request-id", "5F3A0C8E2B1D4E0001ABCDEF")
	w.Header().Set("x-oss-ec", ec)
	if r.Method == http.MethodHead {
		w.Header().Set("x-oss-err", base64.StdEncoding.EncodeToString([]byte(xml)))
		w.WriteHeader(f.Status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, xml)
}

// AccessKeyID extracts the key ID from an OSS Authorization header:
// "OSS <id>:<sig>" (V1), "OSS2 AccessKeyId:<id>,..." (V2) or
// "OSS4-HMAC-SHA256 Credential=<id>/..." (V4).
func AccessKeyID(auth string) string {
	scheme, rest, _ := strings.Cut(auth, " ")
	switch scheme {
	case "OSS":
		id, _, _ := strings.Cut(rest, ":")
		return id
	case "OSS2":
		for _, part := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "AccessKeyId:"); ok {
				return v
			}
		}
	case "OSS4-HMAC-SHA256":
		for _, part := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				id, _, _ := strings.Cut(v, "/")
				return id
			}
		}
	}
	return ""
}

// V4Region is the region of a V4 Authorization header's credential scope,
// or "" for another scheme.
func V4Region(auth string) string {
	scheme, rest, _ := strings.Cut(auth, " ")
	if scheme != V4 {
		return ""
	}
	for _, part := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
			if f := strings.Split(v, "/"); len(f) == 5 {
				return f[2]
			}
		}
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
