// Package store is the key-value layer under sentry-white's configuration
// document and its records: a local folder (file:DIR), an Aliyun OSS bucket
// (oss://BUCKET/PREFIX), or a relay's admin API (relay+https://RELAY-URL),
// which offers the relay's own store to the configurator. Writes are atomic and compare-and-swap on the ETag
// that was read, so two editors never silently overwrite each other. The
// document layer over it (the document, its history, the relay's cache) is
// package docstore.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Errors a Backend returns; wrap them, test with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrNotModified = errors.New("not modified")
	// ErrConflict means the object changed since it was read.
	ErrConflict = errors.New("changed since it was read")
)

// Object is a stored value and its ETag (opaque, quoted).
type Object struct {
	Data []byte
	ETag string
}

// Backend is a flat key-value store with conditional reads and writes.
type Backend interface {
	// Get reads key. When ifNoneMatch is non-empty and equals the current
	// ETag, it returns ErrNotModified without the data.
	Get(ctx context.Context, key, ifNoneMatch string) (Object, error)
	// Put writes key atomically and returns the new ETag. ifMatch nil writes
	// unconditionally; a pointer to "" requires that key does not exist; any
	// other value requires the current ETag to equal it (else ErrConflict).
	Put(ctx context.Context, key string, data []byte, ifMatch *string) (string, error)
	// List returns the keys under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String describes the location without credentials.
	String() string
}

// Location is a parsed -store value.
type Location struct {
	Scheme string // "file", "oss" or "relay"
	Dir    string // file: the folder
	Bucket string // oss: the bucket
	URL    string // relay: the relay's URL (its HTTP trigger), without a trailing slash
	Prefix string // key prefix, default "api/" (for a relay, the relay's own prefix is applied by the relay)
}

// DefaultPrefix is the folder in the bucket (or directory) that holds the
// configuration, as in the original system.
const DefaultPrefix = "api/"

// DefaultDir is the folder store used when no -store is given.
const DefaultDir = "./sentry-white-data"

// ParseLocation parses "file:DIR", a plain path, "oss://BUCKET/PREFIX", or
// "relay+https://RELAY-URL" ("relay+http://" for a relay on this computer).
func ParseLocation(s string) (Location, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultDir
	}
	switch {
	case strings.HasPrefix(s, "relay+"):
		u, err := CheckRelayURL(strings.TrimPrefix(s, "relay+"))
		if err != nil {
			return Location{}, fmt.Errorf("store %q: %w", s, err)
		}
		return Location{Scheme: "relay", URL: u.String(), Prefix: DefaultPrefix}, nil
	case strings.HasPrefix(s, "oss://"):
		rest := strings.TrimPrefix(s, "oss://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return Location{}, fmt.Errorf("store %q: the bucket name is missing (oss://BUCKET/PREFIX)", s)
		}
		if len(bucket) < 3 || len(bucket) > 63 || strings.Trim(bucket, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return Location{}, fmt.Errorf("store %q: bucket %q must be 3-63 lower-case letters, digits or hyphens", s, bucket)
		}
		if prefix == "" {
			prefix = DefaultPrefix
		}
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		return Location{Scheme: "oss", Bucket: bucket, Prefix: prefix}, nil
	case strings.HasPrefix(s, "file://"):
		return Location{Scheme: "file", Dir: strings.TrimPrefix(s, "file://"), Prefix: DefaultPrefix}, nil
	case strings.HasPrefix(s, "file:"):
		dir := strings.TrimPrefix(s, "file:")
		if dir == "" {
			return Location{}, fmt.Errorf("store %q: the folder is missing (file:DIR)", s)
		}
		return Location{Scheme: "file", Dir: dir, Prefix: DefaultPrefix}, nil
	case strings.Contains(s, "://"):
		return Location{}, fmt.Errorf("store %q: unknown scheme; use file:DIR, oss://BUCKET/PREFIX or relay+https://RELAY-URL", s)
	}
	return Location{Scheme: "file", Dir: s, Prefix: DefaultPrefix}, nil
}

// String formats the location back to its -store form.
func (l Location) String() string {
	switch l.Scheme {
	case "oss":
		return "oss://" + l.Bucket + "/" + l.Prefix
	case "relay":
		return "relay+" + l.URL
	}
	return "file:" + l.Dir
}

// Identity names the document this location holds, the same however it
// is written: a folder by its absolute path (symbolic links resolved), a
// bucket by its name, not by the endpoint (the internal and the public one
// reach the same bucket), each with its prefix. The relay's spool keeps
// each store's alerts apart by it.
func (l Location) Identity() string {
	switch l.Scheme {
	case "file":
		dir, err := filepath.Abs(l.Dir)
		if err != nil {
			dir = l.Dir
		} else if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		return "file:" + strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/" + l.Prefix
	case "oss":
		return "oss://" + l.Bucket + "/" + l.Prefix
	}
	return l.String()
}

// ConfigKey is the key of the configuration document under prefix.
func ConfigKey(prefix string) string { return prefix + "v1/config.json" }

// Credentials are cloud access keys for a backend that needs them. They are
// never logged: String masks them.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

func (c Credentials) String() string { return "credentials(******)" }

type credsKey struct{}

// WithCredentials returns a context carrying per-request credentials, such as
// the x-fc-access-key-* headers Function Compute adds; a backend that needs
// keys prefers them to its environment.
func WithCredentials(ctx context.Context, c Credentials) context.Context {
	return context.WithValue(ctx, credsKey{}, c)
}

// WithFCCredentials returns r's context carrying the per-request role keys
// Function Compute adds to each request (x-fc-access-key-id, -secret,
// x-fc-security-token) when r has all three. The keys are temporary and OSS
// refuses them without their token, which the custom runtime on Debian 11
// no longer sends: then r's context is returned as it is, and a backend
// signs with the keys FC sets in the environment (ALIBABA_CLOUD_*, token
// included). Call it only on Function Compute: elsewhere any client could
// send those headers.
func WithFCCredentials(r *http.Request) context.Context {
	c := Credentials{
		AccessKeyID:     strings.TrimSpace(r.Header.Get("x-fc-access-key-id")),
		AccessKeySecret: strings.TrimSpace(r.Header.Get("x-fc-access-key-secret")),
		SecurityToken:   strings.TrimSpace(r.Header.Get("x-fc-security-token")),
	}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" {
		return r.Context()
	}
	return WithCredentials(r.Context(), c)
}

// CredentialsFrom returns the credentials WithCredentials put in ctx.
func CredentialsFrom(ctx context.Context) (Credentials, bool) {
	c, ok := ctx.Value(credsKey{}).(Credentials)
	return c, ok && c.AccessKeyID != "" && c.AccessKeySecret != ""
}

// Open returns the backend for loc. getenv reads the environment (OSS
// endpoint, region and keys; SENTRY_WHITE_ADMIN_KEY for a relay); nil means
// os.Getenv.
func Open(loc Location, getenv func(string) string) (Backend, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch loc.Scheme {
	case "file":
		f := NewFile(loc.Dir)
		// Best effort: a folder this user cannot chmod is reported by the
		// reads and writes that follow, not here.
		_ = f.Secure(loc.Prefix)
		return f, nil
	case "oss":
		return openOSS(loc, getenv)
	case "relay":
		key := strings.TrimSpace(getenv("SENTRY_WHITE_ADMIN_KEY"))
		if key == "" {
			return nil, fmt.Errorf("store %s: SENTRY_WHITE_ADMIN_KEY is not set: give the configurator the admin key set on the function (that environment variable, or the Settings page)", loc)
		}
		r, err := NewRelay(loc.URL, key)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", loc, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("store: unknown scheme %q", loc.Scheme)
}
