// Package tlsroots lets the relay's HTTPS clients verify servers against
// the system's root certificates without parsing every one of them first.
//
// On Linux, crypto/x509 loads the system roots at the first verification
// of a process: it reads the bundle file and every file of the certificate
// folders (on Debian /etc/ssl/certs holds each root a second time) and
// parses every certificate, some 290: about 30 ms of CPU, 0.6 s of a cold
// start on a 0.05 vCPU Function Compute instance. A Verifier reads the
// bundle at its first handshake, parses only the roots whose subject is
// the issuer of a certificate the server sent, and reads the folders only
// when the bundle's roots do not verify the chain: it trusts what
// crypto/x509 trusts, at a tenth of the cost.
//
// Elsewhere (macOS and Windows verify with the platform's own APIs)
// Apply leaves a transport as it is.
package tlsroots

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Where crypto/x509 finds the system roots on Linux (root_linux.go), and
// the variables that replace them.
var (
	certFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian/Ubuntu/Gentoo etc.
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora/RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine Linux
	}
	certDirectories = []string{
		"/etc/ssl/certs",     // SLES10/SLES11
		"/etc/pki/tls/certs", // Fedora/RHEL
	}
)

const (
	certFileEnv = "SSL_CERT_FILE"
	certDirEnv  = "SSL_CERT_DIR"
)

// Verifier verifies server certificates against the system's roots,
// parsing only those that may have issued a chain. It is safe for
// concurrent use; the zero value reads the system's files.
type Verifier struct {
	// getenv reads SSL_CERT_FILE and SSL_CERT_DIR; nil means os.Getenv.
	getenv func(string) string

	bundleOnce sync.Once
	bundle     index
	dirsOnce   sync.Once
	dirs       index

	mu     sync.Mutex
	parsed map[string]*x509.Certificate // by DER
}

// index holds root certificates by the DER of their subject.
type index map[string][][]byte

// system is the process's Verifier: the roots are the machine's.
var system = &Verifier{}

// Enabled reports whether Apply changes transports here (Linux).
func Enabled() bool { return runtime.GOOS == "linux" }

// Apply makes t verify the servers it dials over TLS with the system
// roots, read and parsed as the Package comment says, on Linux; elsewhere
// it leaves t alone. Requests through a proxy keep the transport's own
// TLS to their target. It keeps t's TLSClientConfig (its RootCAs, if any,
// are used as they are) and TLSHandshakeTimeout, and HTTP/2 when t offers
// it.
func Apply(t *http.Transport) {
	if !Enabled() || t.DialTLSContext != nil || t.DialTLS != nil {
		return
	}
	system.apply(t)
}

func (v *Verifier) apply(t *http.Transport) {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// Read when dialing: the transport adds h2 to TLSClientConfig's
		// NextProtos before its first dial.
		cfg := &tls.Config{}
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		if cfg.RootCAs == nil && !cfg.InsecureSkipVerify {
			// Verified in VerifyConnection instead, against the roots the
			// chain names.
			name, next := cfg.ServerName, cfg.VerifyConnection
			cfg.InsecureSkipVerify = true
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				if err := v.Verify(name, cs.PeerCertificates); err != nil {
					return err
				}
				if next != nil {
					return next(cs)
				}
				return nil
			}
		}
		conn := tls.Client(raw, cfg)
		if d := t.TLSHandshakeTimeout; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// Verify checks that certs (the server's, leaf first) chain up to a system
// root and that the leaf is valid for host now, as crypto/tls does with the
// system roots; the error is a *tls.CertificateVerificationError.
func (v *Verifier) Verify(host string, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	v.bundleOnce.Do(func() { v.bundle = v.readBundle() })
	opts.Roots = v.pool(certs, v.bundle)
	_, err := certs[0].Verify(opts)
	if err != nil {
		// The folders may hold a root the bundle lacks: crypto/x509
		// trusts both.
		v.dirsOnce.Do(func() { v.dirs = v.readDirs() })
		if len(v.dirs) > 0 {
			opts.Roots = v.pool(certs, v.bundle, v.dirs)
			_, err = certs[0].Verify(opts)
		}
	}
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// pool is the roots of the indexes whose subject is the issuer of one of
// certs.
func (v *Verifier) pool(certs []*x509.Certificate, idx ...index) *x509.CertPool {
	p := x509.NewCertPool()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.parsed == nil {
		v.parsed = map[string]*x509.Certificate{}
	}
	for _, c := range certs {
		for _, x := range idx {
			for _, der := range x[string(c.RawIssuer)] {
				root, ok := v.parsed[string(der)]
				if !ok {
					root, _ = x509.ParseCertificate(der) // nil: crypto/x509 skips it too
					v.parsed[string(der)] = root
				}
				if root != nil {
					p.AddCert(root)
				}
			}
		}
	}
	return p
}

func (v *Verifier) env(k string) string {
	if v.getenv != nil {
		return v.getenv(k)
	}
	return os.Getenv(k)
}

// readBundle reads the first bundle file crypto/x509 would.
func (v *Verifier) readBundle() index {
	files := certFiles
	if f := v.env(certFileEnv); f != "" {
		files = []string{f}
	}
	x := index{}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			x.add(data)
			break
		}
	}
	return x
}

// readDirs reads the certificate folders as crypto/x509 does: every entry
// but the symbolic links to another entry of the same folder.
func (v *Verifier) readDirs() index {
	dirs := certDirectories
	if d := v.env(certDirEnv); d != "" {
		dirs = strings.Split(d, ":")
	}
	x := index{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 {
				if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && !strings.Contains(target, "/") {
					continue
				}
			}
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				x.add(data)
			}
		}
	}
	return x
}

// add indexes the certificates of a PEM file by subject, as
// AppendCertsFromPEM takes them, without parsing them. A block as bundles
// write them is read by plainCertificate; anything else by pem.Decode.
func (x index) add(data []byte) {
	var scratch []byte
	for len(data) > 0 {
		der, rest, b64, ok := plainCertificate(data, scratch)
		scratch = b64
		if !ok {
			var block *pem.Block
			if block, rest = pem.Decode(data); block == nil {
				return
			}
			if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
				data = rest
				continue
			}
			der = block.Bytes
		}
		data = rest
		if subject, ok := rawSubject(der); ok {
			x[string(subject)] = append(x[string(subject)], der)
		}
	}
}

const (
	beginCertificate = "-----BEGIN CERTIFICATE-----"
	endCertificate   = "\n-----END CERTIFICATE-----"
)

// plainCertificate reads the certificate block at the start of data (after
// blank space) when it is written as bundles write them: the BEGIN line,
// lines of base64 and nothing else, the END line. It gives what
// pem.Decode gives for such a block, without its scan of every line (4 %
// of a cold relay's CPU before its first answer, reading the system's
// bundle); ok is false for anything else, which pem.Decode reads. The
// base64 is gathered in scratch (returned as b64 for the next block).
func plainCertificate(data, scratch []byte) (der, rest, b64 []byte, ok bool) {
	b64 = scratch[:0]
	b := bytes.TrimLeft(data, " \t\r\n")
	body, found := bytes.CutPrefix(b, []byte(beginCertificate))
	if !found {
		return nil, nil, b64, false
	}
	if body, found = bytes.CutPrefix(body, []byte("\n")); !found {
		if body, found = bytes.CutPrefix(body, []byte("\r\n")); !found {
			return nil, nil, b64, false
		}
	}
	end := bytes.Index(body, []byte(endCertificate))
	if end < 0 {
		return nil, nil, b64, false
	}
	rest = body[end+len(endCertificate):]
	switch {
	case len(rest) == 0:
	case rest[0] == '\n':
		rest = rest[1:]
	case len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n':
		rest = rest[2:]
	default:
		return nil, nil, b64, false
	}
	// The lines without their ends; a header, a space or anything else
	// but base64 is an error of Decode below.
	for body = body[:end]; len(body) > 0; {
		line, next, _ := bytes.Cut(body, []byte("\n"))
		b64 = append(b64, bytes.TrimSuffix(line, []byte("\r"))...)
		body = next
	}
	der = make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(der, b64)
	if err != nil || n == 0 {
		return nil, nil, b64, false
	}
	return der[:n], rest, b64, true
}

// rawSubject finds the DER of a certificate's subject (with its tag and
// length, like x509.Certificate.RawSubject) without parsing the rest:
// Certificate is a SEQUENCE whose first element, TBSCertificate, holds an
// optional [0] version, the serial number, the signature algorithm, the
// issuer, the validity and then the subject.
func rawSubject(der []byte) ([]byte, bool) {
	cert, _, ok := element(der, 0x30)
	if !ok {
		return nil, false
	}
	tbs, _, ok := element(content(cert), 0x30)
	if !ok {
		return nil, false
	}
	rest := content(tbs)
	if len(rest) > 0 && rest[0] == 0xa0 { // version
		if _, rest, ok = element(rest, 0xa0); !ok {
			return nil, false
		}
	}
	for _, tag := range []byte{0x02, 0x30, 0x30, 0x30} { // serial, signature, issuer, validity
		if _, rest, ok = element(rest, tag); !ok {
			return nil, false
		}
	}
	subject, _, ok := element(rest, 0x30)
	return subject, ok
}

// element splits the DER element of tag at the start of b (its tag,
// length and content) from what follows it.
func element(b []byte, tag byte) (elem, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 || len(b)-hdr < n {
		return nil, nil, false
	}
	return b[:hdr+n], b[hdr+n:], true
}

// content is an element's content, without its tag and length.
func content(elem []byte) []byte {
	if elem[1] < 0x80 {
		return elem[2:]
	}
	return elem[2+int(elem[1]&0x7f):]
}
