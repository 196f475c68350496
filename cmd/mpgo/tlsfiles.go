package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// loadKeyPair reads a PEM certificate (chain) and its key.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, usagef("--tls-cert and --tls-key are both required")
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading --tls-cert %s / --tls-key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// loadCAPool reads PEM CA certificates for flag.
func loadCAPool(flag, file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, usagef("%s is required", flag)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", flag, file)
	}
	return p, nil
}
