package managers_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// Maths is the Python documentation's example class, written in Go.
type Maths struct{}

// Add returns x + y.
func (Maths) Add(x, y int64) int64 { return x + y }

// Mul returns x * y.
func (Maths) Mul(x, y int64) int64 { return x * y }

// A server hosting a Go Maths type and a shared queue. A Python client reaches them with
//
//	class MyManager(BaseManager): pass
//	MyManager.register('Maths'); MyManager.register('get_queue')
//	m = MyManager(address=('127.0.0.1', port), authkey=b'secret'); m.connect()
//	m.Maths().add(4, 3)
//
// Here the Go client plays that part.
func ExampleServer() {
	reg := managers.NewRegistry()
	maths, err := managers.ReflectType(func() *Maths { return &Maths{} }, nil)
	if err != nil {
		panic(err)
	}
	reg.MustRegister("Maths", maths)
	queue := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(queue))

	srv := &managers.Server{Registry: reg}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: []byte("secret")})
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx := context.Background()
	c, err := managers.Dial(ctx, "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: []byte("secret")})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	m, err := c.Create(ctx, "Maths", nil, nil)
	if err != nil {
		panic(err)
	}
	sum, _ := m.Call(ctx, "add", pickle.Tuple{4, 3}, nil)
	product, _ := m.Call(ctx, "mul", pickle.Tuple{7, 8}, nil)
	fmt.Println(sum, product)

	q, _ := c.Create(ctx, "get_queue", nil, nil)
	q.Call(ctx, "put", pickle.Tuple{"hello"}, nil)
	v, _ := queue.Get(ctx) // the Go side of the same queue
	fmt.Println(v)
	// Output:
	// 7 56
	// hello
}

// Graceful shutdown, as cmd/mpgo does on SIGINT: stop accepting, let calls in flight finish,
// and give up after a deadline.
func ExampleServer_Shutdown() {
	srv := &managers.Server{AuthKey: []byte("secret"), Registry: managers.NewRegistry()}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: srv.AuthKey})
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	// ... later, on SIGINT/SIGTERM:
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx))
	fmt.Println(<-served)
	// Output:
	// <nil>
	// managers: server closed
}

// A Queue is usable from Go directly, with the semantics of Python's queue.Queue.
func ExampleQueue() {
	ctx := context.Background()
	q := managers.NewQueue(1)
	q.Put(ctx, "job 1")
	fmt.Println(q.PutNowait("job 2")) // full
	v, _ := q.Get(ctx)
	fmt.Println(v)
	_, err := q.GetTimeout(ctx, 10*time.Millisecond)
	fmt.Println(err)
	// Output:
	// queue.Full
	// job 1
	// queue.Empty
}
