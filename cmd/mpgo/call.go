package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

func init() {
	commands["call"] = command{summary: "create an object on a running manager and call one method", run: runCall}
}

// clientFlags are the flags shared by call and inspect.
type clientFlags struct {
	address   string
	key       keyFlags
	dialect   string
	timeout   time.Duration
	handshake time.Duration
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "address", os.Getenv("MPGO_ADDRESS"), "manager address: HOST:PORT, a Unix socket path or @abstract (default $MPGO_ADDRESS)")
	f.key.register(fs)
	fs.StringVar(&f.dialect, "dialect", "auto", "pickle dialect: auto, python3 (protocol 4), python2 (protocol 2 for a 2.7 server)")
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
	cfg := &managers.ClientConfig{AuthKey: key, HandshakeTimeout: f.handshake}
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
	asJSON := fs.Bool("json", false, "print the result as JSON instead of its Python repr")
	createArgs := fs.String("create-args", "", "JSON list of positional arguments for create (e.g. '[5]')")
	createKwargs := fs.String("create-kwargs", "", "JSON object of keyword arguments for create (e.g. '{\"maxsize\": 3}')")
	kwargs := fs.String("kwargs", "", "JSON object of keyword arguments for the method")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo call [flags] TYPEID METHOD [ARG...]")
		fmt.Fprintln(sio.err, "\nCreates an object of TYPEID (or reaches a singleton: a typeid whose callable returns a shared\n"+
			"object, such as get_queue), calls METHOD with the ARGs and prints the result. Each ARG is a JSON\n"+
			"value; an ARG that is not valid JSON is taken as a string. The object is released afterwards.\n\nflags:")
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
	b, err := json.Marshal(toJSON(v))
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

// jsonArg converts one JSON text to a value-model value. With lenient, text that is not JSON is
// a string.
func jsonArg(s string, lenient bool) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	if err != nil {
		if lenient {
			return s, nil
		}
		return nil, err
	}
	return fromJSON(v)
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

// fromJSON maps decoded JSON to the value model: null None, numbers int (or float), arrays
// lists, objects dicts.
func fromJSON(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		if b, ok := new(big.Int).SetString(string(t), 10); ok {
			return b, nil
		}
		return t.Float64()
	case []any:
		items := make([]any, len(t))
		for i, x := range t {
			var err error
			if items[i], err = fromJSON(x); err != nil {
				return nil, err
			}
		}
		return pickle.NewList(items...), nil
	case map[string]any:
		d := pickle.NewDict()
		for k, x := range t {
			xv, err := fromJSON(x)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, xv); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return v, nil
}

// toJSON maps a result to JSON: tuples, lists, sets as arrays; dicts as objects (keys as str());
// bytes as base64 strings; proxies as {"proxy": {"typeid", "id"}}; other objects as their repr.
func toJSON(v any) any {
	switch t := v.(type) {
	case nil, bool, int64, float64, string:
		return t
	case *big.Int:
		return json.Number(t.String())
	case pickle.Py2String:
		return string(t)
	case []byte:
		return base64.StdEncoding.EncodeToString(t)
	case pickle.ByteArray:
		return base64.StdEncoding.EncodeToString(t)
	case pickle.Tuple:
		return toJSONList(t)
	case *pickle.List:
		return toJSONList(t.Items)
	case *pickle.Set:
		return toJSONList(t.Items())
	case pickle.FrozenSet:
		return toJSONList(t.Items())
	case *pickle.Dict:
		out := map[string]any{}
		for _, it := range t.Items() {
			k, ok := it.Key.(string)
			if !ok {
				k = pickle.Str(it.Key)
			}
			out[k] = toJSON(it.Value)
		}
		return out
	case *managers.Proxy:
		return map[string]any{"proxy": map[string]any{"typeid": t.TypeID(), "id": t.Token().ID}}
	}
	return pickle.Repr(v)
}

func toJSONList(items []any) []any {
	out := make([]any, len(items))
	for i, x := range items {
		out[i] = toJSON(x)
	}
	return out
}
