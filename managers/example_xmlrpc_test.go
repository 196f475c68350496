package managers_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// ExampleClientConfig_serializer talks to a manager whose clients use
// serializer='xmlrpclib' (here mpgo's own server, which serves both serializers on one port;
// a CPython BaseManager(..., serializer='xmlrpclib') server works the same): a tuple comes back
// as a list, and an exception as a RemoteError whose traceback ends with it.
func ExampleClientConfig_serializer() {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		log.Fatal(err)
	}
	key := []byte("secret")
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	if err != nil {
		log.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", l.Addr().String(),
		&managers.ClientConfig{AuthKey: key, Serializer: managers.SerializerXMLRPCLib})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	d, err := c.Create(ctx, "dict", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Call(ctx, "__setitem__", pickle.Tuple{"point", pickle.Tuple{1, 2}}, nil); err != nil {
		log.Fatal(err)
	}
	v, err := d.Call(ctx, "__getitem__", pickle.Tuple{"point"}, nil)
	fmt.Println(pickle.Repr(v), err)

	_, err = d.Call(ctx, "__getitem__", pickle.Tuple{"missing"}, nil)
	var re *managers.RemoteError
	if errors.As(err, &re) {
		lines := strings.Split(strings.TrimSpace(re.Traceback), "\n")
		fmt.Println(re.Kind, lines[len(lines)-1])
	}
	// Output:
	// [1, 2] <nil>
	// #TRACEBACK KeyError: 'missing'
}
