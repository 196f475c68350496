package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
)

func init() {
	commands["inspect"] = command{summary: "print debug_info and number_of_objects of a running manager", run: runInspect}
}

func runInspect(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print {\"number_of_objects\": N, \"debug_info\": TEXT} as JSON")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo inspect [flags]\n\nPrints number_of_objects and debug_info of a running manager (CPython's or mpgo's).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("inspect takes no arguments")
	}
	c, ctx, cancel, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer c.Close()
	n, err := c.NumberOfObjects(ctx)
	if err != nil {
		return fmt.Errorf("number_of_objects: %w", err)
	}
	info, err := c.DebugInfo(ctx)
	if err != nil {
		return fmt.Errorf("debug_info: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(sio.out)
		return enc.Encode(map[string]any{"number_of_objects": n, "debug_info": info, "python2": c.Python2()})
	}
	fmt.Fprintf(sio.out, "number_of_objects: %d\n", n)
	if info != "" {
		fmt.Fprintf(sio.out, "debug_info:\n%s\n", info)
	}
	return nil
}
