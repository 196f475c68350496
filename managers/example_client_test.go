package managers_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// ExampleDial connects to a manager (here mpgo's own, started in process; a CPython
// SyncManager works the same), creates a shared dict and a queue, and calls them.
func ExampleDial() {
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
	c, err := managers.Dial(ctx, "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// m.dict() and d['answer'] = 42
	p, err := c.Create(ctx, "dict", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Call(ctx, "__setitem__", pickle.Tuple{"answer", 42}, nil); err != nil {
		log.Fatal(err)
	}
	v, err := p.Call(ctx, "__getitem__", pickle.Tuple{"answer"}, nil)
	fmt.Println(v, err)
	_, err = p.Call(ctx, "__getitem__", pickle.Tuple{"missing"}, nil)
	fmt.Println(managers.IsKeyError(err), err)

	// m.Queue(), with the typed helper.
	qp, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer qp.Close()
	q := managers.QueueProxy{Proxy: qp}
	q.Put(ctx, "hello")
	s, err := managers.CallInto[string](ctx, qp, "get")
	fmt.Println(s, err)
	_, err = q.GetNowait(ctx)
	fmt.Println(managers.IsQueueEmpty(err))
	// Output:
	// 42 <nil>
	// true managers: remote KeyError: 'missing'
	// hello <nil>
	// true
}
