package fakeapi

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CA is a throw-away certificate authority for one test run. Its
// certificate (CertPEM) is what the client under test trusts, through
// NODE_EXTRA_CA_CERTS for Claude Code; the server certificates it issues
// name the real hosts, so the client checks them as it would the real
// ones.
type CA struct {
	// CertPEM is the CA certificate, PEM-encoded.
	CertPEM []byte

	cert *x509.Certificate
	key  crypto.Signer

	mu     sync.Mutex
	issued map[string]*tls.Certificate // by server name, for TLSConfig
}

// PEMFiles are the paths WriteFiles wrote.
type PEMFiles struct {
	CA   string // the CA certificate: what NODE_EXTRA_CA_CERTS names
	Cert string // the server certificate, for the fake's listener
	Key  string // the server's private key (mode 0600)
}

// NewCA makes a CA valid from an hour ago for a day, which covers a test
// run and a small clock skew between the test and a container.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to make the CA key: %w", err)
	}
	tmpl, err := template(pkix.Name{CommonName: "paude fakeapi test CA"})
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("failed to read back the CA certificate: %w", err)
	}
	return &CA{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		cert:    cert, key: key, issued: map[string]*tls.Certificate{},
	}, nil
}

// Issue makes a server certificate for names (DNS names, no wildcards
// needed: list every host) and returns it and its key, PEM-encoded.
func (ca *CA) Issue(names ...string) (certPEM, keyPEM []byte, err error) {
	if len(names) == 0 {
		return nil, nil, errors.New("no server name to issue a certificate for: pass at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to make a server key: %w", err)
	}
	tmpl, err := template(pkix.Name{CommonName: names[0]})
	if err != nil {
		return nil, nil, err
	}
	tmpl.DNSNames = names
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to sign a certificate for %v: %w", names, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode a server key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// WriteFiles writes the CA certificate and a server certificate for names
// into dir as ca.pem, tls.crt and tls.key, for a test to mount into the
// client's and the fake's containers.
func (ca *CA) WriteFiles(dir string, names ...string) (PEMFiles, error) {
	certPEM, keyPEM, err := ca.Issue(names...)
	if err != nil {
		return PEMFiles{}, err
	}
	f := PEMFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{f.CA, ca.CertPEM, 0o644}, {f.Cert, certPEM, 0o644}, {f.Key, keyPEM, 0o600}} {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return PEMFiles{}, fmt.Errorf("failed to write %s: %w", w.path, err)
		}
	}
	return f, nil
}

// TLSConfig returns a server configuration that presents, for whatever
// name the client asks (SNI), a certificate this CA issues for it. A
// recording setup uses it to see the paths a client asks of hosts nobody
// listed in advance.
func (ca *CA) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				return nil, errors.New("client sent no server name (SNI): the fake serves host names only")
			}
			ca.mu.Lock()
			defer ca.mu.Unlock()
			if c, ok := ca.issued[name]; ok {
				return c, nil
			}
			certPEM, keyPEM, err := ca.Issue(name)
			if err != nil {
				return nil, err
			}
			c, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return nil, err
			}
			ca.issued[name] = &c
			return &c, nil
		},
	}
}

// template is the part of a certificate the CA and the servers share.
func template(subject pkix.Name) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("failed to make a serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	}, nil
}
