package natsqueue_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
)

// A durable queue on an embedded JetStream: the items survive a restart on the same directory.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "mpgo-store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	q, err := natsqueue.Open(ctx, e.JetStream, natsqueue.Config{Name: "jobs"})
	if err != nil {
		log.Fatal(err)
	}
	for _, job := range []string{"resize", "upload"} {
		if err := q.Put(ctx, job); err != nil {
			log.Fatal(err)
		}
	}
	q.Close()
	e.Close() // as if the server had stopped

	e, err = natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	q, err = natsqueue.Open(ctx, e.JetStream, natsqueue.Config{Name: "jobs"})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	fmt.Println("after restart:", q.Qsize())
	for range 2 {
		job, err := q.Get(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job)
		if err := q.TaskDone(); err != nil {
			log.Fatal(err)
		}
	}
	if err := q.Join(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = q.GetNowait()
	fmt.Println(managers.IsQueueEmpty(err))
	// Output:
	// after restart: 2
	// resize
	// upload
	// true
}

// Serving a durable queue to Python clients: register it as a Singleton, as
// register('get_queue', callable=lambda: q) does in Python.
func ExampleQueue_CallMethod() {
	dir, err := os.MkdirTemp("", "mpgo-store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	q, err := natsqueue.Open(context.Background(), e.JetStream, natsqueue.Config{Name: "jobs", Maxsize: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	reg := managers.NewRegistry()
	reg.MustRegister("get_queue", managers.Singleton(q))
	srv := &managers.Server{AuthKey: []byte("secret"), Registry: reg}
	_ = srv // srv.ListenAndServe("tcp", "127.0.0.1:50000") serves it

	// What a Python client's q.put_nowait('a'); q.put_nowait('b') does:
	ctx := context.Background()
	_, err = q.CallMethod(ctx, "put_nowait", []any{"a"}, nil)
	fmt.Println(err)
	_, err = q.CallMethod(ctx, "put_nowait", []any{"b"}, nil)
	fmt.Println(err)
	// Output:
	// <nil>
	// queue.Full
}

// An embedded JetStream with a client port, reached by a second server through Connect: both
// serve the same queue.
func ExampleConnect() {
	dir, err := os.MkdirTemp("", "mpgo-store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()

	nc, js, err := natsqueue.Connect(ctx, []string{e.Server.ClientURL()}, "", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	here, err := natsqueue.Open(ctx, e.JetStream, natsqueue.Config{Name: "shared"})
	if err != nil {
		log.Fatal(err)
	}
	defer here.Close()
	there, err := natsqueue.Open(ctx, js, natsqueue.Config{Name: "shared"})
	if err != nil {
		log.Fatal(err)
	}
	defer there.Close()

	if err := here.Put(ctx, "hello"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(there.Qsize())
	v, err := there.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	// Output:
	// 1
	// hello
}
