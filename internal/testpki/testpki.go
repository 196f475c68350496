package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	DER  []byte
}

// Leaf is a certificate with its key, issued by a CA.
type Leaf struct {
	DER  []byte
	Key  *ecdsa.PrivateKey
	Cert *x509.Certificate
}

var (
	serialMu sync.Mutex
	serial   = big.NewInt(time.Now().UnixNano())
)

func nextSerial() *big.Int {
	serialMu.Lock()
	defer serialMu.Unlock()
	serial = new(big.Int).Add(serial, big.NewInt(1))
	return serial
}

// NewCA makes a self-signed CA named name, valid for a day.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"mpgo test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, DER: der}, nil
}

// Server issues a server certificate for 127.0.0.1, ::1 and localhost.
func (ca *CA) Server(name string) (*Leaf, error) {
	return ca.issue(name, x509.ExtKeyUsageServerAuth, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
}

// Client issues a client certificate.
func (ca *CA) Client(name string) (*Leaf, error) {
	return ca.issue(name, x509.ExtKeyUsageClientAuth, nil, nil)
}

func (ca *CA) issue(name string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"mpgo test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Leaf{DER: der, Key: key, Cert: cert}, nil
}

// Pool returns a pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// TLSCertificate returns the leaf as a tls.Certificate.
func (l *Leaf) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.DER}, PrivateKey: l.Key, Leaf: l.Cert}
}

// ServerTLS is a server's configuration: its certificate, and clients
// verified against clientCA.
func ServerTLS(cert *Leaf, clientCA *CA) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert.TLSCertificate()}, ClientCAs: clientCA.Pool()}
}

// ClientTLS is a client's configuration: its certificate, and servers
// verified against serverCA.
func ClientTLS(cert *Leaf, serverCA *CA) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert.TLSCertificate()}, RootCAs: serverCA.Pool()}
}

// WriteCert writes the CA certificate as PEM to dir/name and returns the path.
func (ca *CA) WriteCert(dir, name string) (string, error) {
	return writePEM(filepath.Join(dir, name), "CERTIFICATE", ca.DER)
}

// WriteFiles writes the leaf's certificate and key as PEM to dir/name.crt
// and dir/name.key and returns their paths.
func (l *Leaf) WriteFiles(dir, name string) (certFile, keyFile string, err error) {
	certFile, err = writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", l.DER)
	if err != nil {
		return "", "", err
	}
	k, err := x509.MarshalECPrivateKey(l.Key)
	if err != nil {
		return "", "", err
	}
	keyFile, err = writePEM(filepath.Join(dir, name+".key"), "EC PRIVATE KEY", k)
	return certFile, keyFile, err
}

func writePEM(path, typ string, der []byte) (string, error) {
	return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// Set is a CA with a server and a client certificate, plus a second,
// untrusted CA with a client certificate of its own.
type Set struct {
	CA, Other             *CA
	Server, Client, Rogue *Leaf
}

// NewSet makes a Set.
func NewSet() (*Set, error) {
	ca, err := NewCA("mpgo test CA")
	if err != nil {
		return nil, err
	}
	other, err := NewCA("untrusted CA")
	if err != nil {
		return nil, err
	}
	srv, err := ca.Server("mpgo server")
	if err != nil {
		return nil, err
	}
	cl, err := ca.Client("relay")
	if err != nil {
		return nil, err
	}
	rogue, err := other.Client("rogue relay")
	if err != nil {
		return nil, err
	}
	return &Set{CA: ca, Other: other, Server: srv, Client: cl, Rogue: rogue}, nil
}

// ServerTLS is the server's configuration (clients verified against CA).
func (s *Set) ServerTLS() *tls.Config { return ServerTLS(s.Server, s.CA) }

// ClientTLS is a trusted client's configuration.
func (s *Set) ClientTLS() *tls.Config { return ClientTLS(s.Client, s.CA) }

// RogueTLS is the configuration of a client whose certificate the server
// does not trust (it trusts the server's CA itself).
func (s *Set) RogueTLS() *tls.Config { return ClientTLS(s.Rogue, s.CA) }
