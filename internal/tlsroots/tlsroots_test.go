package tlsroots

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestRawSubject: the subject found without parsing is the one
// crypto/x509 parses, for every root of the system's bundle (old v1 roots
// without a version among them) and for our own certificates.
func TestRawSubject(t *testing.T) {
	var ders [][]byte
	for _, f := range certFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for len(data) > 0 {
			var b *pem.Block
			if b, data = pem.Decode(data); b == nil {
				break
			}
			ders = append(ders, b.Bytes)
		}
		break
	}
	ca := newCA(t, "Test Root")
	ders = append(ders, ca.cert.Raw, ca.leaf(t, "example.com").Raw)
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		got, ok := rawSubject(der)
		if !ok || string(got) != string(c.RawSubject) {
			t.Errorf("rawSubject of %q = %x, %v; want %x", c.Subject, got, ok, c.RawSubject)
		}
	}
	for _, bad := range [][]byte{nil, {0x30}, {0x30, 0x85, 1, 1, 1, 1, 1}, {0x30, 0x03, 0x30, 0x01}, {0x02, 0x01, 0x00}} {
		if _, ok := rawSubject(bad); ok {
			t.Errorf("rawSubject(%x) found a subject in a broken certificate", bad)
		}
	}
}

// TestVerifierTrustsWhatTheSystemTrusts drives HTTPS clients through
// Apply's dialer: a server whose root is in the bundle, or only in a
// certificate folder, is trusted; one whose root is in neither, or whose
// certificate names another host, is refused with crypto/tls's error.
func TestVerifierTrustsWhatTheSystemTrusts(t *testing.T) {
	if !Enabled() {
		t.Skip("the system roots are the platform's here")
	}
	inBundle, inDir, nowhere := newCA(t, "Bundle Root"), newCA(t, "Folder Root"), newCA(t, "Unknown Root")
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	writePEM(t, bundle, inBundle.cert)
	certDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(certDir, "folder.pem"), inDir.cert)
	// A link to another entry of the folder is skipped, as crypto/x509
	// skips it; the root is read once from its file.
	if err := os.Symlink("folder.pem", filepath.Join(certDir, "abcd1234.0")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{certFileEnv: bundle, certDirEnv: certDir}
	v := &Verifier{getenv: func(k string) string { return env[k] }}

	for _, c := range []struct {
		name   string
		ca     *testCA
		host   string // in the leaf
		wantOK bool
		want   any // the error crypto/x509 gives
	}{
		{"root in the bundle", inBundle, "127.0.0.1", true, nil},
		{"root only in a folder", inDir, "127.0.0.1", true, nil},
		{"unknown root", nowhere, "127.0.0.1", false, x509.UnknownAuthorityError{}},
		{"another host", inBundle, "example.com", false, x509.HostnameError{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}))
			leaf := c.ca.leaf(t, c.host)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw, c.ca.cert.Raw}, PrivateKey: c.ca.leafKey}}}
			srv.StartTLS()
			defer srv.Close()
			tr := &http.Transport{TLSHandshakeTimeout: 5 * time.Second}
			v.apply(tr)
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
			if c.wantOK {
				if err != nil {
					t.Fatalf("GET = %v, want an answer", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("GET succeeded, want the certificate refused")
			}
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("GET = %v, want a *tls.CertificateVerificationError", err)
			}
			switch c.want.(type) {
			case x509.UnknownAuthorityError:
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) {
					t.Errorf("GET = %v, want x509.UnknownAuthorityError", err)
				}
			case x509.HostnameError:
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Errorf("GET = %v, want x509.HostnameError", err)
				}
			}
		})
	}
	// Only the roots that could issue a chain were parsed: never the
	// unknown one's, which no index holds.
	if len(v.parsed) != 2 {
		t.Errorf("%d roots parsed, want 2 (the bundle's and the folder's)", len(v.parsed))
	}
}

// TestApplyKeepsHTTP2AndOwnRoots: a transport that attempts HTTP/2 still
// negotiates it through the dialer; one with its own RootCAs verifies with
// them.
func TestApplyKeepsHTTP2AndOwnRoots(t *testing.T) {
	if !Enabled() {
		t.Skip("the system roots are the platform's here")
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool}}
	(&Verifier{getenv: func(string) string { return "/nonexistent" }}).apply(tr)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "HTTP/2.0" {
		t.Errorf("the server saw %q, want HTTP/2.0", b)
	}
}

type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	leafKey *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"sentry-white tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &testCA{cert: cert, key: key, leafKey: leafKey}
}

// leaf is a server certificate for host (a name or an address).
func (ca *testCA) leaf(t *testing.T, host string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leafKey.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func writePEM(t *testing.T, path string, c *x509.Certificate) {
	t.Helper()
	var b strings.Builder
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAddReadsAsPEM: the index of a PEM file is the one pem.Decode's
// blocks make, for the system's bundle and for files in other shapes
// (CRLF lines, text between blocks, headers, other block types, a block
// cut short, no newline at the end).
func TestAddReadsAsPEM(t *testing.T) {
	byPEM := func(data []byte) index {
		x := index{}
		for len(data) > 0 {
			var b *pem.Block
			if b, data = pem.Decode(data); b == nil {
				break
			}
			if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
				continue
			}
			if subject, ok := rawSubject(b.Bytes); ok {
				x[string(subject)] = append(x[string(subject)], b.Bytes)
			}
		}
		return x
	}
	var certs []string
	for i := range 3 {
		der := newCA(t, fmt.Sprintf("root %d", i)).cert.Raw
		certs = append(certs, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	}
	withHeader := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: newCA(t, "header").cert.Raw}))
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a key")}))
	files := map[string]string{
		"plain":            certs[0] + certs[1] + certs[2],
		"crlf":             strings.ReplaceAll(certs[0]+certs[1], "\n", "\r\n"),
		"text between":     "# root 0\n" + certs[0] + "\nsome words\n\n" + certs[1] + "  \n" + certs[2],
		"header and key":   certs[0] + withHeader + key + certs[1],
		"cut short":        certs[0] + certs[1][:len(certs[1])/2],
		"no final newline": certs[0] + strings.TrimSuffix(certs[1], "\n"),
		"spaces in a line": certs[0] + strings.Replace(certs[1], "\n", " \n", 3),
		"end line trailed": strings.Replace(certs[0], "-----END CERTIFICATE-----", "-----END CERTIFICATE-----  ", 1) + certs[1],
	}
	for _, f := range certFiles {
		if data, err := os.ReadFile(f); err == nil {
			files[f] = string(data)
			break
		}
	}
	for name, data := range files {
		got, want := index{}, byPEM([]byte(data))
		got.add([]byte(data))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d subjects indexed, pem.Decode's blocks make %d (or the same subjects with other certificates)", name, len(got), len(want))
		}
	}
}

// BenchmarkAddBundle is what a cold relay's first handshake spends on the
// system's bundle before it parses a root.
func BenchmarkAddBundle(b *testing.B) {
	var data []byte
	for _, f := range certFiles {
		if d, err := os.ReadFile(f); err == nil {
			data = d
			break
		}
	}
	if data == nil {
		b.Skip("no certificate bundle on this system")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		index{}.add(data)
	}
}
