package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeMarkdown writes the report's tables as Markdown (for notes and the README).
func writeMarkdown(w io.Writer, o *options, names []string, rep *report) {
	cp := "cpython3.13"
	cell := func(a *cellAgg) string {
		if a == nil {
			return "n/a"
		}
		return fmt.Sprintf("%s / %s / %s", fmtOps(a.OpsPerSec), fmtUS(a.P50us), fmtUS(a.P99us))
	}
	fmt.Fprintf(w, "Load average before the run: %s. GOMAXPROCS %s. CPU pinning: %s.\n\n", rep.Load, rep.Options["gomaxprocs"], rep.Options["pin"])
	if len(rep.Go) > 0 {
		fmt.Fprintf(w, "Go load generator, ops/s / p50 / p99 (median of %d runs of %v):\n\n", o.runs, o.duration)
		fmt.Fprintf(w, "| cell | %s | mpgo/%s | mpgo/echo | p99 %s/mpgo |\n", strings.Join(names, " | "), cp, cp)
		fmt.Fprintf(w, "|---|%s---|---|---|\n", strings.Repeat("---|", len(names)))
		for _, wl := range o.workloads {
			for _, c := range o.conns {
				key := fmt.Sprintf("%s/%d", wl, c)
				echoKey := fmt.Sprintf("%s/%d", o.workloads[0], c)
				fmt.Fprintf(w, "| %s |", key)
				for _, n := range names {
					k := key
					if n == "echo" {
						k = echoKey
					}
					fmt.Fprintf(w, " %s |", cell(rep.Go[n][k]))
				}
				mp := rep.Go["mpgo"][key]
				fmt.Fprintf(w, " %s | %s | %s |\n", ratio(mp, rep.Go[cp][key], false),
					ratio(mp, rep.Go["echo"][echoKey], false), ratio(mp, rep.Go[cp][key], true))
			}
		}
		fmt.Fprintf(w, "\nServer CPU time per operation (us):\n\n| cell | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
		for _, wl := range o.workloads {
			for _, c := range o.conns {
				key := fmt.Sprintf("%s/%d", wl, c)
				fmt.Fprintf(w, "| %s |", key)
				for _, n := range names {
					k := key
					if n == "echo" {
						k = fmt.Sprintf("%s/%d", o.workloads[0], c)
					}
					if a := rep.Go[n][k]; a != nil {
						fmt.Fprintf(w, " %.1f |", a.SrvCPUus)
					} else {
						fmt.Fprintf(w, " n/a |")
					}
				}
				fmt.Fprintln(w)
			}
		}
	}
	var mgrs []string
	for _, n := range names {
		if n != "echo" {
			mgrs = append(mgrs, n)
		}
	}
	if len(rep.Py) > 0 {
		fmt.Fprintf(w, "\nPython %s client processes with real proxies (Queue put/get), ops/s / p50 / p99 (%v):\n\n", o.pyClient, o.pyDur)
		fmt.Fprintf(w, "| processes | %s | mpgo/%s |\n|---|%s---|\n", strings.Join(mgrs, " | "), cp, strings.Repeat("---|", len(mgrs)))
		for _, p := range o.pyProcs {
			key := strconv.Itoa(p)
			fmt.Fprintf(w, "| %d |", p)
			for _, n := range mgrs {
				fmt.Fprintf(w, " %s |", cell(rep.Py[n][key]))
			}
			fmt.Fprintf(w, " %s |\n", ratio(rep.Py["mpgo"][key], rep.Py[cp][key], false))
		}
	}
	if len(rep.Connect) > 0 {
		fmt.Fprintf(w, "\nPython `SyncManager(...).connect()` + `m.Queue()`, median of %d (the floor: the same four fresh connections and sixteen round trips against the echo server, no manager):\n\n| server | ms | of it, the Python client's CPU |\n|---|---|---|\n", o.connectN)
		for _, n := range names {
			if c := rep.Connect[n]; c != nil {
				fmt.Fprintf(w, "| %s | %.2f | %.2f |\n", connectLabel(n), c.WallMS, c.ClientCPUMS)
			}
		}
	}
	if r := rep.Idle; r != nil {
		fmt.Fprintf(w, "\nIdle: %d authenticated method-call connections held against mpgo: server RSS %d -> %d KiB = **%.1f KiB per connection**",
			r.Conns, r.RSSBeforeKiB, r.RSSAfterKiB, r.KiBPerConn)
		if r.GoKiBPerConn != 0 {
			fmt.Fprintf(w, " (Go heap+stack %.1f KiB per connection)", r.GoKiBPerConn)
		}
		fmt.Fprintf(w, "; while held, a new one-shot `dummy` took %s and a call on a held connection %s (answered: %v).\n",
			fmtUS(r.DummyUS), fmtUS(r.HeldCallUS), r.Answered)
	}
}
