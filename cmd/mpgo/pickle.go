package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mpgo/internal/pyjson"
	"github.com/mpgo/mpgo/pickle"
)

func init() {
	commands["pickle"] = command{
		summary: "disassemble, show as JSON or re-encode a Python pickle",
		run: func(ctx context.Context, args []string, sio stdio) error {
			return runPickle(ctx, args, sio.in, sio.out, sio.err)
		},
	}
}

// maxPickleInput bounds what `mpgo pickle` reads.
const maxPickleInput = 1 << 30

const pickleUsage = `usage: mpgo pickle dis    [FILE]
       mpgo pickle json   [--compact] [FILE]
       mpgo pickle recode [--protocol N] [--python2] [FILE]

Reads a pickle from FILE, or from standard input when FILE is absent or "-".

  dis     print a disassembly like "python -m pickletools" (offsets, opcodes,
          arguments, then "highest protocol among opcodes = N")
  json    print the decoded value as JSON, one document per pickle in the input;
          non-JSON types use "$" forms ({"$bytes": base64}, {"$set": [...]},
          {"$class": "module.Name", "args": [...], "state": ...}, {"$ref": ptr} for
          shared and recursive containers ...): see internal/pyjson
  recode  decode and encode again, to standard output; the result unpickles in
          Python to an object equal to the input's. Nothing is executed.

Run "mpgo pickle COMMAND -h" for the flags of a command.
`

// runPickle implements `mpgo pickle dis|json|recode [flags] [FILE]`.
func runPickle(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pickleUsage)
		return usagef("pickle needs a command: dis, json or recode")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, pickleUsage)
		return flag.ErrHelp
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	name := args[0]
	fs := flag.NewFlagSet("pickle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		protocol = -1
		python2  bool
		compact  bool
	)
	var synopsis string
	switch name {
	case "dis":
		synopsis = "mpgo pickle dis [FILE]\n\nPrints a disassembly like python -m pickletools."
	case "json":
		synopsis = "mpgo pickle json [--compact] [FILE]\n\nPrints each pickle of the input as JSON (see mpgo pickle -h for the mapping)."
		fs.BoolVar(&compact, "compact", false, "print each document on one line instead of indented")
	case "recode":
		synopsis = "mpgo pickle recode [--protocol N] [--python2] [FILE]\n\nDecodes each pickle of the input and encodes it again to standard output."
		fs.IntVar(&protocol, "protocol", -1, "pickle protocol to write, 0 to 5 (-1: the protocol of the input)")
		fs.BoolVar(&python2, "python2", false, "write for a Python 2 reader (protocol <= 2, Python 2 module names, ASCII str as Python 2 str)")
	default:
		fmt.Fprint(stderr, pickleUsage)
		return usagef("unknown pickle command %q", name)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	rest, err := pickleParseArgs(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if len(rest) > 1 {
		return usagef("pickle %s takes at most one FILE", name)
	}
	if protocol < -1 || protocol > 5 {
		return usagef("--protocol must be between 0 and 5")
	}
	if python2 && protocol > 2 {
		return usagef("--python2 needs --protocol 0, 1 or 2")
	}
	data, err := pickleReadInput(rest, stdin)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	switch name {
	case "dis":
		err = pickle.Disassemble(out, data)
	case "json":
		err = pickleJSON(out, data, compact)
	case "recode":
		err = pickleRecode(out, data, protocol, python2)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// pickleParseArgs parses flags that may come before or after the FILE.
func pickleParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func pickleReadInput(rest []string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if len(rest) == 1 && rest[0] != "-" {
		f, err := os.Open(rest[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxPickleInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPickleInput {
		return nil, fmt.Errorf("input larger than %d bytes", maxPickleInput)
	}
	if len(data) == 0 {
		return nil, errors.New("empty input: no pickle to read")
	}
	return data, nil
}

// pickleEach decodes the consecutive pickles in data.
func pickleEach(data []byte, reg *pickle.Registry, f func(v any, proto int) error) error {
	dec := pickle.NewDecoder(bytes.NewReader(data))
	if reg != nil {
		dec.SetRegistry(reg)
	}
	for n := 0; ; n++ {
		off := dec.InputOffset()
		var v any
		if err := dec.Decode(&v); err != nil {
			if err == io.EOF && n > 0 {
				return nil
			}
			return err
		}
		proto := 0
		if off+1 < int64(len(data)) && data[off] == 0x80 {
			proto = int(data[off+1])
		}
		if err := f(v, proto); err != nil {
			return err
		}
	}
}

func pickleJSON(w io.Writer, data []byte, compact bool) error {
	return pickleEach(data, nil, func(v any, _ int) error {
		var out []byte
		var err error
		if compact {
			out, err = pyjson.Marshal(v)
		} else {
			out, err = pyjson.MarshalIndent(v, "", "  ")
		}
		if err != nil {
			return err
		}
		out = append(out, '\n')
		_, err = w.Write(out)
		return err
	})
}

func pickleRecode(w io.Writer, data []byte, protocol int, python2 bool) error {
	enc := pickle.NewEncoder(w)
	enc.SetPython2(python2)
	return pickleEach(data, nil, func(v any, inProto int) error {
		p := protocol
		if p < 0 {
			p = inProto
			if python2 && p > 2 {
				p = 2
			}
		}
		enc.SetProtocol(p)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encoding at protocol %d: %w", p, err)
		}
		return nil
	})
}
