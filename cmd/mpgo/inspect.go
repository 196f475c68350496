package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

func init() {
	commands["inspect"] = command{summary: "list the shared objects of a running manager, with queue depths", run: runInspect}
}

func runInspect(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print {\"number_of_objects\": N, \"debug_info\": TEXT, \"objects\": [...]} as JSON")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo inspect [flags]\n\n"+
			"Lists the shared objects of a running manager (CPython's or mpgo's) in a table: ident,\n"+
			"reference count, type, queue depth (qsize, for queues) and value, from the manager's\n"+
			"debug_info and number_of_objects. It takes no references. (mpgo serve --http serves the\n"+
			"same and more as metrics and a status page.)\n\nflags:")
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
	objects := parseDebugInfo(info)
	for i := range objects {
		o := &objects[i]
		if !strings.HasSuffix(o.Type, "Queue") {
			continue
		}
		// The object may be gone already: then it has no depth.
		if v, err := c.CallIdent(ctx, o.Ident, "qsize", nil, nil); err == nil {
			if q, ok := v.(int64); ok {
				o.Qsize = &q
			}
		} else if ctx.Err() != nil {
			return fmt.Errorf("qsize of %s: %w", o.Ident, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(sio.out)
		return enc.Encode(map[string]any{"number_of_objects": n, "debug_info": info, "python2": c.Python2(), "objects": objects})
	}
	fmt.Fprintf(sio.out, "number_of_objects: %d\n", n)
	if len(objects) > 0 {
		printObjects(sio.out, objects)
	}
	return nil
}

// inspected is one shared object of debug_info.
type inspected struct {
	Ident    string `json:"ident"`
	RefCount int    `json:"refcount"`
	Type     string `json:"type"`  // the class of a default repr (<queue.Queue object at 0x...>), else ""
	Qsize    *int64 `json:"qsize"` // for queues
	Str      string `json:"str"`   // str(obj), cut to 75 characters by the server
}

var (
	// debug_info's lines: "  IDENT:       refcount=N" then "    str(obj)[:75]".
	debugHeader = regexp.MustCompile(`^  (\S+):\s+refcount=(-?\d+)$`)
	// A default repr: <module.Class object at 0x...> (Python 2: "instance at").
	defaultRepr = regexp.MustCompile(`^<([A-Za-z_][\w.]*) (?:object|instance) at 0x[0-9a-fA-F]+>$`)
)

// parseDebugInfo splits CPython's (and mpgo's) debug_info text into objects. A str that spans
// lines is kept whole.
func parseDebugInfo(info string) []inspected {
	var out []inspected
	for _, line := range strings.Split(info, "\n") {
		if m := debugHeader.FindStringSubmatch(line); m != nil {
			rc, _ := strconv.Atoi(m[2])
			out = append(out, inspected{Ident: m[1], RefCount: rc})
			continue
		}
		if len(out) == 0 {
			continue
		}
		o := &out[len(out)-1]
		if o.Str == "" && strings.HasPrefix(line, "    ") {
			o.Str = line[4:]
		} else {
			o.Str += "\n" + line
		}
	}
	for i := range out {
		if m := defaultRepr.FindStringSubmatch(out[i].Str); m != nil {
			out[i].Type = m[1]
		}
	}
	return out
}

// maxValueWidth cuts the value column of the table.
const maxValueWidth = 60

var controlEscaper = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`)

// printObjects writes objects as an aligned table.
func printObjects(w io.Writer, objects []inspected) {
	var buf bytes.Buffer
	defer func() { // without the padding of empty last cells
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if line != "" {
				io.WriteString(w, strings.TrimRight(line, " \n")+"\n")
			}
		}
	}()
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENT\tREFCOUNT\tTYPE\tQSIZE\tVALUE")
	for _, o := range objects {
		typ, qsize, value := o.Type, "-", ""
		if typ == "" {
			typ = "-"
			value = controlEscaper.Replace(o.Str) // a tab or newline would break the table
			if r := []rune(value); len(r) > maxValueWidth {
				value = string(r[:maxValueWidth-1]) + "…"
			}
		}
		if o.Qsize != nil {
			qsize = strconv.FormatInt(*o.Qsize, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", o.Ident, o.RefCount, typ, qsize, value)
	}
	tw.Flush()
}
