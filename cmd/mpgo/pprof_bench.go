//go:build mpgo_pprof

package main

// This file is compiled only into benchmark builds (go build -tags
// mpgo_pprof ./cmd/mpgo, which bench/cmd/mgrbench -pprof ADDR does): when
// MPGO_PPROF is set, the process serves net/http/pprof and expvar
// (/debug/vars, with runtime.MemStats) on that address. Production builds
// never contain it.

import (
	_ "expvar"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("MPGO_PPROF"); addr != "" {
		go func() {
			fmt.Fprintf(os.Stderr, "mpgo: pprof on http://%s/debug/pprof/\n", addr)
			if err := http.ListenAndServe(addr, nil); err != nil {
				fmt.Fprintf(os.Stderr, "mpgo: pprof: %v\n", err)
			}
		}()
	}
}
