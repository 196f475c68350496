package managers_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// Job is what Python producers put: q.put({'id': 7, 'name': 'resize', 'sizes': [64, 128]}).
type Job struct {
	ID    int64   `pickle:"id"`
	Name  string  `pickle:"name"`
	Sizes []int   `pickle:"sizes"`
	Score float64 `pickle:"score"`
}

// A Go service reads a queue a Python client fills, hosted in this process, as Go structs.
func ExampleNewTypedQueue() {
	ctx := context.Background()
	q := managers.NewQueue(0)
	// what the server stores for the Python client's put (a Python 2 client's str keys are
	// pickle.Py2String: they decode all the same)
	d := pickle.NewDict()
	_ = d.Set("id", int64(7))
	_ = d.Set(pickle.Py2String("name"), pickle.Py2String("resize"))
	_ = d.Set("sizes", pickle.NewList(int64(64), int64(128)))
	q.Put(ctx, d)
	q.Put(ctx, "not a job")

	jobs := managers.NewTypedQueue[Job](q)
	j, err := jobs.Get(ctx)
	fmt.Printf("%+v %v\n", j, err)
	_, err = jobs.Get(ctx)
	var bad *managers.ItemError
	fmt.Println(errors.As(err, &bad), bad.Item)
	_, err = jobs.GetNowait(ctx)
	fmt.Println(managers.IsQueueEmpty(err))
	// Output:
	// {ID:7 Name:resize Sizes:[64 128] Score:0} <nil>
	// true not a job
	// true
}

// The same over a queue of a manager server (mpgo's, started in process here, or CPython's).
func ExampleNewTypedQueueProxy() {
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
	p, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	jobs := managers.NewTypedQueueProxy[Job](managers.QueueProxy{Proxy: p})
	// Put sends the struct as the dict a Python consumer would get
	if err := jobs.Put(ctx, Job{ID: 8, Name: "crop", Sizes: []int{32}, Score: 0.5}); err != nil {
		log.Fatal(err)
	}
	j, err := jobs.GetTimeout(ctx, 5*time.Second)
	fmt.Printf("%+v %v\n", j, err)
	// Output:
	// {ID:8 Name:crop Sizes:[32] Score:0.5} <nil>
}
