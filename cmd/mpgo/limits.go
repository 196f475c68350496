package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// limitFlags are mpgo serve's connection limits (README, "Operations"). Their names are an
// interface that users' scripts rely on.
type limitFlags struct {
	handshakeTimeout   time.Duration
	maxUnauth          int
	maxUnauthPerAddr   int
	maxConns           int
	maxFrameSize       int
	writeTimeout       time.Duration
	keepAlive          time.Duration
	failureLogInterval time.Duration
}

func (f *limitFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", connection.DefaultHandshakeTimeout,
		"time a new connection has to authenticate")
	fs.IntVar(&f.maxUnauth, "max-unauthenticated", 0,
		fmt.Sprintf("connections still authenticating, the oldest shed first (0: three quarters of the file-descriptor limit, here %d; -1: no limit)", connection.DefaultMaxUnauthenticated()))
	fs.IntVar(&f.maxUnauthPerAddr, "max-unauthenticated-per-address", connection.DefaultMaxUnauthenticatedPerAddress,
		"the same per remote IP address (-1: no limit)")
	fs.IntVar(&f.maxConns, "max-connections", 0,
		"authenticated connections served at once; more are answered with an error (0: no limit)")
	fs.IntVar(&f.maxFrameSize, "max-frame-size", managers.DefaultMaxFrameSize,
		"largest request in bytes; a larger one disconnects its client (-1: no limit)")
	fs.DurationVar(&f.writeTimeout, "write-timeout", connection.DefaultWriteTimeout,
		"slow-reader cut: disconnect a client whose reply makes no progress for this long (negative: never)")
	fs.DurationVar(&f.keepAlive, "keepalive", connection.DefaultKeepAlive,
		"TCP keep-alive probe interval of authenticated connections, to notice vanished hosts (negative: off)")
	fs.DurationVar(&f.failureLogInterval, "failure-log-interval", 10*time.Second,
		"repeated handshake failures are logged as one summary line per interval")
}

// validate rejects values that have no meaning.
func (f *limitFlags) validate() error {
	switch {
	case f.handshakeTimeout <= 0:
		return usagef("--handshake-timeout must be positive")
	case f.maxConns < 0:
		return usagef("--max-connections must be 0 (no limit) or positive")
	case f.maxFrameSize == 0:
		return usagef("--max-frame-size must be positive or -1")
	case f.failureLogInterval <= 0:
		return usagef("--failure-log-interval must be positive")
	}
	return nil
}

// config is the listener configuration the flags describe.
func (f *limitFlags) config(key []byte, log logrus.FieldLogger) *connection.Config {
	max := f.maxFrameSize
	if max < 0 {
		max = 0 // connection.Config: 0 is no limit
	}
	return &connection.Config{
		AuthKey:                      key,
		HandshakeTimeout:             f.handshakeTimeout,
		MaxFrameSize:                 max,
		MaxUnauthenticated:           f.maxUnauth,
		MaxUnauthenticatedPerAddress: f.maxUnauthPerAddr,
		WriteTimeout:                 f.writeTimeout,
		KeepAlive:                    f.keepAlive,
		FailureLogInterval:           f.failureLogInterval,
		Logger:                       log,
	}
}
