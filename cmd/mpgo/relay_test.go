package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelayUsage: the relay's and serve's TLS flags are checked before anything starts.
func TestRelayUsage(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		run   func(context.Context, []string, stdio) error
		args  []string
		usage bool   // a usage error (exit 2)
		want  string // in the message
	}{
		{"relay without --server", runRelay, []string{"--tls-ca", junk}, true, "--server is required"},
		{"relay without a certificate", runRelay, []string{"--server", "127.0.0.1:1", "--tls-ca", junk}, true, "--tls-cert and --tls-key"},
		{"relay with a bad certificate", runRelay, []string{"--server", "127.0.0.1:1", "--tls-ca", junk, "--tls-cert", junk, "--tls-key", junk}, false, "--tls-cert"},
		{"serve TLS flags without --mux-address", runServe, []string{"--address", "127.0.0.1:0", "--tls-cert", junk}, true, "need --mux-address"},
		{"serve without a client CA", runServe, []string{"--address", "127.0.0.1:0", "--mux-address", "127.0.0.1:0", "--tls-cert", junk, "--tls-key", junk}, false, "--tls-cert"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := c.run(context.Background(), c.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if err == nil {
				t.Fatal("no error")
			}
			var ue usageError
			if errors.As(err, &ue) != c.usage || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q (usage %v), want %q (usage %v)", err, errors.As(err, &ue), c.want, c.usage)
			}
		})
	}
}
