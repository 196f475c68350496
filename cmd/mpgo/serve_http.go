package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/monitor"
)

// httpFlags is mpgo serve's --http option: metrics, status page and health check on an HTTP
// listener of their own (off by default).
type httpFlags struct {
	addr string
}

func (f *httpFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "http", "", "serve Prometheus /metrics, a status page (/) and /healthz on `HOST:PORT` (off by default; never the manager's port)")
}

// httpShutdownTimeout bounds the wait for HTTP requests in flight when mpgo serve stops.
const httpShutdownTimeout = 2 * time.Second

// start listens on --http, if given, and serves srv's monitor handler there. stop (never nil)
// shuts the HTTP server down; call it after the manager's Shutdown, so that /healthz answers
// 503 while the manager drains.
func (f *httpFlags) start(srv *managers.Server, manager net.Addr, sio stdio, log logrus.FieldLogger) (stop func(), err error) {
	if f.addr == "" {
		return func() {}, nil
	}
	if f.addr == manager.String() {
		return nil, usagef("--http %s: the HTTP listener never shares the manager's address", f.addr)
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("--http: %w", err)
	}
	h := monitor.NewHandler(srv, nil)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Error("mpgo: HTTP server failed")
		}
	}()
	fmt.Fprintf(sio.out, "mpgo: status page on http://%s/ (metrics: /metrics, health: /healthz)\n", l.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		<-done
		h.Close()
	}, nil
}
