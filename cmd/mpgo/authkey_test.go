package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("from\x00file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     string
		want    string
		wantOK  bool
		wantErr bool
	}{
		{"none", nil, "", "", false, false},
		{"env", nil, "envkey", "envkey", true, false},
		{"raw beats env", []string{"--authkey", "k"}, "envkey", "k", true, false},
		{"hex with NUL", []string{"--authkey-hex", "00ff41"}, "", "\x00\xffA", true, false},
		{"file, newline trimmed", []string{"--authkey-file", file}, "", "from\x00file", true, false},
		{"bad hex", []string{"--authkey-hex", "zz"}, "", "", false, true},
		{"two sources", []string{"--authkey", "a", "--authkey-hex", "00"}, "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MPGO_AUTHKEY", tt.env)
			var k keyFlags
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			k.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			key, ok, err := k.resolve()
			if tt.wantErr {
				var ue usageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil || ok != tt.wantOK || string(key) != tt.want {
				t.Fatalf("resolve() = %q, %v, %v; want %q, %v", key, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}
