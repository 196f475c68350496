package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pyjson"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

func init() {
	commands["call"] = command{summary: "create an object on a running manager and call one method", run: runCall}
}

// clientFlags are the flags shared by call and inspect.
type clientFlags struct {
	address    string
	key        keyFlags
	dialect    string
	serializer string
	timeout    time.Duration
	handshake  time.Duration
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "address", os.Getenv("MPGO_ADDRESS"), "manager address: HOST:PORT, a Unix socket path or @abstract (default $MPGO_ADDRESS)")
	f.key.register(fs)
	fs.StringVar(&f.dialect, "dialect", "auto", "pickle dialect: auto, python3 (protocol 4), python2 (protocol 2 for a 2.7 server)")
	fs.StringVar(&f.serializer, "serializer", "pickle", "the server's serializer (BaseManager's serializer argument): pickle or xmlrpclib")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "overall time limit (0: none)")
	fs.DurationVar(&f.handshake, "handshake-timeout", 0, "limit for each connection's handshake (0: 5s)")
}

// authKey resolves the key (see keyFlags); call and inspect need one.
func (f *clientFlags) authKey() ([]byte, error) {
	key, ok, err := f.key.resolve()
	if err == nil && !ok {
		err = usagef("no authentication key: use --authkey-file, --authkey-hex, $MPGO_AUTHKEY or --authkey")
	}
	return key, err
}

// dial connects as the flags say; the returned context carries the overall timeout.
func (f *clientFlags) dial(ctx context.Context) (*managers.Client, context.Context, context.CancelFunc, error) {
	if f.address == "" {
		return nil, nil, nil, usagef("--address is required")
	}
	key, err := f.authKey()
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := &managers.ClientConfig{AuthKey: key, HandshakeTimeout: f.handshake, Serializer: f.serializer}
	if f.serializer != managers.SerializerPickle && f.serializer != managers.SerializerXMLRPCLib {
		return nil, nil, nil, usagef("unknown --serializer %q (pickle, xmlrpclib)", f.serializer)
	}
	switch f.dialect {
	case "auto":
	case "python3", "py3":
		cfg.Dialect = managers.DialectPython3
	case "python2", "py2":
		cfg.Dialect = managers.DialectPython2
	default:
		return nil, nil, nil, usagef("unknown --dialect %q (auto, python3, python2)", f.dialect)
	}
	cancel := context.CancelFunc(func() {})
	if f.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
	}
	network, addr := connection.ParseAddress(f.address)
	c, err := managers.Dial(ctx, network, addr, cfg)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return c, ctx, cancel, nil
}

func runCall(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON (the form of \"mpgo pickle json\") instead of its Python repr")
	createArgs := fs.String("create-args", "", "JSON list of positional arguments for create (e.g. '[5]')")
	createKwargs := fs.String("create-kwargs", "", "JSON object of keyword arguments for create (e.g. '{\"maxsize\": 3}')")
	kwargs := fs.String("kwargs", "", "JSON object of keyword arguments for the method")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo call [flags] TYPEID METHOD [ARG...]")
		fmt.Fprintln(sio.err, "\nCreates an object of TYPEID (or reaches a singleton: a typeid whose callable returns a shared\n"+
			"object, such as get_queue), calls METHOD with the ARGs and prints the result. Each ARG is a JSON\n"+
			"value (with the $-forms of `mpgo pickle json`, e.g. {\"$bytes\": \"aGk=\"}); an ARG that is not valid\n"+
			"JSON is taken as a string. The object is released afterwards.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return usagef("need TYPEID and METHOD")
	}
	typeid, method := fs.Arg(0), fs.Arg(1)
	var margs pickle.Tuple
	for _, a := range fs.Args()[2:] {
		v, err := jsonArg(a, true)
		if err != nil {
			return usagef("argument %q: %v", a, err)
		}
		margs = append(margs, v)
	}
	cargs, err := jsonTuple("--create-args", *createArgs)
	if err != nil {
		return err
	}
	ckw, err := jsonKwargs("--create-kwargs", *createKwargs)
	if err != nil {
		return err
	}
	mkw, err := jsonKwargs("--kwargs", *kwargs)
	if err != nil {
		return err
	}

	c, ctx, cancel, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer c.Close()
	p, err := c.Create(ctx, typeid, cargs, ckw)
	if err != nil {
		return fmt.Errorf("create %s: %w", typeid, err)
	}
	defer p.Close()
	res, err := p.Call(ctx, method, margs, mkw)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", typeid, method, err)
	}
	defer closeProxies(res)
	return printResult(sio.out, res, *asJSON)
}

// closeProxies releases proxies a call returned.
func closeProxies(v any) {
	switch t := v.(type) {
	case *managers.Proxy:
		t.Close()
	case pickle.Tuple:
		for _, x := range t {
			closeProxies(x)
		}
	case *pickle.List:
		for _, x := range t.Items {
			closeProxies(x)
		}
	case *pickle.Dict:
		for _, x := range t.Values() {
			closeProxies(x)
		}
	}
}

func printResult(w io.Writer, v any, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(w, reprResult(v))
		return err
	}
	b, err := pyjson.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// reprResult is Python's repr of a result; proxies show as CPython shows them.
func reprResult(v any) string {
	if p, ok := v.(*managers.Proxy); ok {
		return p.String()
	}
	return pickle.Repr(v)
}

// jsonArg converts one JSON text to a value-model value (internal/pyjson's mapping, the one
// `mpgo pickle json` prints). With lenient, text that is not JSON is a string.
func jsonArg(s string, lenient bool) (any, error) {
	v, err := pyjson.Unmarshal([]byte(s))
	if err != nil && lenient {
		return s, nil
	}
	return v, err
}

func jsonTuple(flagName, s string) (pickle.Tuple, error) {
	if s == "" {
		return nil, nil
	}
	v, err := jsonArg(s, false)
	if err != nil {
		return nil, usagef("%s: %v", flagName, err)
	}
	l, ok := v.(*pickle.List)
	if !ok {
		return nil, usagef("%s: want a JSON list", flagName)
	}
	return pickle.Tuple(l.Items), nil
}

func jsonKwargs(flagName, s string) (*pickle.Dict, error) {
	if s == "" {
		return nil, nil
	}
	v, err := jsonArg(s, false)
	if err != nil {
		return nil, usagef("%s: %v", flagName, err)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, usagef("%s: want a JSON object", flagName)
	}
	return d, nil
}
