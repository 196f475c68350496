package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

func TestLimitFlags(t *testing.T) {
	parse := func(args ...string) (*limitFlags, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f limitFlags
		f.register(fs)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &f, f.validate()
	}
	f, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	c := f.config([]byte("k"), nil)
	if c.HandshakeTimeout != connection.DefaultHandshakeTimeout || c.MaxFrameSize != managers.DefaultMaxFrameSize ||
		c.MaxUnauthenticated != 0 || c.MaxUnauthenticatedPerAddress != connection.DefaultMaxUnauthenticatedPerAddress ||
		c.WriteTimeout != connection.DefaultWriteTimeout || c.KeepAlive != connection.DefaultKeepAlive || f.maxConns != 0 {
		t.Errorf("defaults: %+v", c)
	}
	f, err = parse("--handshake-timeout", "2s", "--max-unauthenticated", "5000", "--max-unauthenticated-per-address", "-1",
		"--max-connections", "100", "--max-frame-size", "-1", "--write-timeout", "30s", "--keepalive", "-1s", "--failure-log-interval", "1m")
	if err != nil {
		t.Fatal(err)
	}
	c = f.config(nil, nil)
	if c.HandshakeTimeout != 2*time.Second || c.MaxUnauthenticated != 5000 || c.MaxUnauthenticatedPerAddress != -1 ||
		c.MaxFrameSize != 0 || c.WriteTimeout != 30*time.Second || c.KeepAlive != -time.Second ||
		c.FailureLogInterval != time.Minute || f.maxConns != 100 {
		t.Errorf("set: %+v", c)
	}
	for _, bad := range [][]string{{"--handshake-timeout", "0s"}, {"--max-connections", "-1"}, {"--max-frame-size", "0"}, {"--failure-log-interval", "0s"}} {
		var ue usageError
		if _, err := parse(bad...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
}

// TestServeHelp: every limit flag is listed, and back-quoted words in usage
// texts do not turn into argument names by accident.
func TestServeHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runServe(t.Context(), []string{"-h"}, stdio{out: io.Discard, err: &out}); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	for _, want := range []string{"-handshake-timeout duration", "-max-unauthenticated int", "-max-unauthenticated-per-address int",
		"-max-connections int", "-max-frame-size int", "-write-timeout duration", "-keepalive duration", "-reclaim-after duration", "-authkey-hex HEX"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve -h lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "-authkey-hex mpgo") {
		t.Error("serve -h still names -authkey-hex's argument 'mpgo serve'")
	}
}
