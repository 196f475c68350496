// Package testpki makes throw-away certificate authorities and certificates
// for tests and benchmarks of mutual TLS (package connection/mux, mpgo
// relay): ECDSA P-256 keys, a CA, server certificates for 127.0.0.1, ::1
// and localhost, and client certificates. Nothing here is for production.
package testpki
