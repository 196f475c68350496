package managers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// TestXMLRPCSamePort: a pickle client and an xmlrpclib client of one server share objects; the
// xmlrpclib client gets XML-RPC's value mapping, exceptions as RemoteErrors naming them, and a
// clear error (its connection still usable) for what XML-RPC cannot carry.
func TestXMLRPCSamePort(t *testing.T) {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister("get_queue", managers.Singleton(managers.NewQueue(0)))
	key := []byte("xmlrpc-key")
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	ctx := context.Background()
	pc, err := managers.Dial(ctx, "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	xc, err := managers.Dial(ctx, "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: key, Serializer: managers.SerializerXMLRPCLib})
	if err != nil {
		t.Fatal(err)
	}
	defer xc.Close()
	start := srv.NumberOfObjects()

	// Both reach the one shared queue.
	q := stCreate(t, pc, "get_queue")
	xq, err := xc.Create(ctx, "get_queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer xq.Close()
	set, _ := pickle.NewSet()
	for _, c := range []struct {
		name string
		put  any
		want any // what the xmlrpclib client gets; nil: an error naming errWant
		err  string
	}{
		{"str", "h\u00e5", "h\u00e5", ""},
		{"int", int64(-3), int64(-3), ""},
		{"i8", int64(1) << 40, int64(1) << 40, ""},
		{"tuple", pickle.Tuple{int64(1), "a"}, pickle.NewList(int64(1), "a"), ""},
		{"bytes", []byte{0, 1}, []byte{0, 1}, ""},
		{"none", nil, nil, ""},
		{"set", set, nil, "TypeError: cannot marshal <class 'set'> objects"},
		{"intkey", func() any { d := pickle.NewDict(); _ = d.Set(int64(1), "x"); return d }(), nil, "dictionary key must be string"},
		{"after", "still usable", "still usable", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := q.Call(ctx, "put", pickle.Tuple{c.put}, nil); err != nil {
				t.Fatal(err)
			}
			got, err := xq.Call(ctx, "get", nil, nil)
			if c.err != "" {
				var re *managers.RemoteError
				if !errors.As(err, &re) || re.Kind != managers.KindUnserializable || !strings.Contains(re.Traceback, c.err) {
					t.Fatalf("got %v, %v; want an #UNSERIALIZABLE error naming %q", got, err, c.err)
				}
				return
			}
			if err != nil || !pickle.Equal(got, c.want) || pickle.TypeName(got) != pickle.TypeName(c.want) {
				t.Fatalf("got %s, %v; want %s", pickle.Repr(got), err, pickle.Repr(c.want))
			}
		})
	}
	// And the other way round: what the xmlrpclib client puts, the pickle client gets.
	if _, err := xq.Call(ctx, "put", pickle.Tuple{pickle.Tuple{"x", []byte("y")}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := q.Call(ctx, "get", nil, nil); err != nil || !pickle.Equal(got, pickle.NewList("x", []byte("y"))) {
		t.Fatalf("pickle client got %s, %v", pickle.Repr(got), err)
	}

	d, err := xc.Create(ctx, "dict", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.Call(ctx, "__getitem__", pickle.Tuple{"nope"}, nil)
	var re *managers.RemoteError
	if !errors.As(err, &re) || re.Kind != managers.KindTraceback || !strings.HasSuffix(re.Traceback, "KeyError: 'nope'\n") {
		t.Fatalf("missing key: %v; want a #TRACEBACK ending in KeyError: 'nope'", err)
	}
	// A method_to_typeid method: the proxy cannot travel, and its object is not kept.
	before := srv.NumberOfObjects()
	_, err = d.Call(ctx, "__iter__", nil, nil)
	if !errors.As(err, &re) || re.Kind != managers.KindUnserializable || !strings.Contains(re.Traceback, "Token") {
		t.Fatalf("__iter__: %v; want #UNSERIALIZABLE naming Token", err)
	}
	if n := srv.NumberOfObjects(); n != before {
		t.Errorf("objects: %d after a refused proxy, want %d", n, before)
	}
	if _, err := d.Call(ctx, "__setitem__", pickle.Tuple{"k", int64(1)}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Call(ctx, "items", nil, nil); err != nil || pickle.Repr(got) != "[['k', 1]]" {
		t.Fatalf("items: %s, %v", pickle.Repr(got), err)
	}
	xq.Close()
	d.Close()
	q.Close()
	if n := srv.NumberOfObjects(); n != start {
		t.Errorf("objects at the end: %d, want %d", n, start)
	}
}
