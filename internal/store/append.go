package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// Appender adds data at the end of an object, creating it when missing; an
// append-only log (such as a daily delivery log) needs no read and no
// compare-and-swap.
type Appender interface {
	Append(ctx context.Context, key string, data []byte) error
}

var _ Appender = (*File)(nil)

// Append writes data at the end of the file for key, creating it (and its
// folder) when missing. Each call is one write on a file opened with
// O_APPEND, so concurrent appenders do not interleave inside a record.
func (f *File) Append(ctx context.Context, key string, data []byte) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("append %s: %w", key, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("append %s: %w", key, err)
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return fmt.Errorf("append %s: %w", key, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("append %s: %w", key, err)
	}
	return nil
}

// appendAttempts bounds the read-modify-write fallback's retries on a
// conflicting writer.
const appendAttempts = 3

// maxPositions bounds the remembered append positions (one per daily log).
const maxPositions = 64

// errAppendUnsupported marks a server without AppendObject (or an object
// that is not appendable because a PutObject created it).
var errAppendUnsupported = errors.New("append not supported")

// Append adds data at the end of key with OSS AppendObject, at the position
// remembered from this instance's last append (else read with HEAD:
// x-oss-next-append-position, or the length). When another writer moved the
// end (409 PositionNotEqualToLength), it retries once at the position OSS
// returns. Servers without AppendObject (S3-compatible ones answer 405 or
// 501), and objects written by PutObject, get a read-modify-write under
// compare-and-swap instead (gofakes3 answers 400 MethodNotAllowed).
func (o *OSS) Append(ctx context.Context, key string, data []byte) error {
	o.appendMu.Lock()
	defer o.appendMu.Unlock()
	if !o.noAppend {
		err := o.appendObject(ctx, key, data)
		if !errors.Is(err, errAppendUnsupported) {
			return err
		}
		var oe *OSSError
		if errors.As(err, &oe) && oe.Code != "ObjectNotAppendable" {
			o.noAppend = true // the server has no AppendObject; stop asking
		}
	}
	return o.appendRewrite(ctx, key, data)
}

func (o *OSS) appendObject(ctx context.Context, key string, data []byte) error {
	pos, known := o.positions[key]
	if !known {
		h, err := o.head(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			pos = 0
		case err != nil:
			return err
		default:
			pos = appendPosition(h)
		}
	}
	for attempt := 0; ; attempt++ {
		next, hdr, err := o.appendAt(ctx, key, data, pos)
		if err == nil {
			if len(o.positions) >= maxPositions {
				clear(o.positions)
			}
			o.positions[key] = next
			return nil
		}
		delete(o.positions, key)
		var oe *OSSError
		if attempt == 0 && errors.As(err, &oe) && oe.Code == "PositionNotEqualToLength" {
			if p, perr := strconv.ParseInt(hdr.Get(oss.HTTPHeaderOssNextAppendPosition), 10, 64); perr == nil {
				pos = p
				continue
			}
		}
		return err
	}
}

// appendAt sends one AppendObject and returns the next position.
func (o *OSS) appendAt(ctx context.Context, key string, data []byte, pos int64) (int64, http.Header, error) {
	b, c, cctx, cancel, err := o.call(ctx)
	if err != nil {
		return 0, nil, o.wrap("append", key, err, c)
	}
	defer cancel()
	// The SDK's AppendObject, without its content type from the key's
	// extension: that first lookup loads the system's MIME tables
	// (mime.TypeByExtension reads /etc/mime.types and the freedesktop
	// globs), 10 % of a cold relay's CPU before its first answer on
	// Function Compute, where the history is written before the answer.
	// .jsonl has no type there: the SDK sent application/octet-stream.
	params := map[string]any{"append": nil, "position": strconv.FormatInt(pos, 10)}
	headers := map[string]string{oss.HTTPHeaderContentType: "application/octet-stream"}
	var hdr http.Header
	var next int64
	resp, err := b.Client.Conn.DoWithContext(cctx, http.MethodPost, b.BucketName, key, params, headers, bytes.NewReader(data), 0, nil)
	if resp != nil {
		hdr = resp.Headers
		if err == nil {
			next, _ = strconv.ParseInt(resp.Headers.Get(oss.HTTPHeaderOssNextAppendPosition), 10, 64)
			resp.Body.Close()
		}
	}
	if err != nil {
		var se oss.ServiceError
		if errors.As(err, &se) {
			switch {
			case se.StatusCode == http.StatusMethodNotAllowed, se.StatusCode == http.StatusNotImplemented,
				se.Code == "NotImplemented", se.Code == "MethodNotAllowed", se.Code == "ObjectNotAppendable":
				return 0, hdr, fmt.Errorf("%w: %w", errAppendUnsupported, o.wrap("append", key, err, c))
			}
		}
		return 0, hdr, o.wrap("append", key, err, c)
	}
	if next == 0 {
		next = pos + int64(len(data))
	}
	return next, hdr, nil
}

// appendPosition is where the next append goes for an object's HEAD.
func appendPosition(h http.Header) int64 {
	for _, k := range []string{oss.HTTPHeaderOssNextAppendPosition, "Content-Length"} {
		if p, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil {
			return p
		}
	}
	return 0
}

// appendRewrite appends by reading the object and writing it back under
// compare-and-swap, retrying when another writer got in between.
func (o *OSS) appendRewrite(ctx context.Context, key string, data []byte) error {
	for range appendAttempts {
		obj, err := o.Get(ctx, key, "")
		switch {
		case errors.Is(err, ErrNotFound):
			obj = Object{}
		case err != nil:
			return err
		}
		buf := make([]byte, 0, len(obj.Data)+len(data))
		buf = append(append(buf, obj.Data...), data...)
		etag := obj.ETag
		_, err = o.Put(ctx, key, buf, &etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("oss append %s: %w %d times in a row; giving up", key, ErrConflict, appendAttempts)
}
