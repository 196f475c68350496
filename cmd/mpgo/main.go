package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// stdio is what a subcommand may read and write.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one mpgo subcommand. run returns flag.ErrHelp after printing usage for -h.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io stdio) error
}

// commands holds the subcommands; each file registers its own in an init function.
var commands = map[string]command{}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mpgo COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mpgo COMMAND -h' for the flags of a command.")
}

func main() {
	os.Exit(run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// run dispatches to a subcommand and returns the process exit code. SIGINT and SIGTERM cancel
// the context handed to the command, which shuts down gracefully.
func run(args []string, sio stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(sio.out)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(sio.err, "mpgo: unknown command %q\n", args[0])
		usage(sio.err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, args[1:], sio); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(sio.err, "mpgo %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(sio.err, "mpgo %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError marks a bad command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }
