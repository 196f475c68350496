package connection_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

// ExampleListen serves Python clients: each one sends objects with
// conn.send(obj) and reads the replies with conn.recv(), as in
//
//	from multiprocessing.connection import Client
//	c = Client(('127.0.0.1', port), authkey=b'secret')
//	c.send([2.25, None, 'junk', float]); print(c.recv())
//
// Here a Go client plays the Python part.
func ExampleListen() {
	cfg := &connection.Config{AuthKey: []byte("secret")}
	l, err := connection.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.AcceptConn() // authenticated
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					v, err := c.Recv()
					if err != nil {
						return // io.EOF when the client closes
					}
					c.Send(pickle.Tuple{"echo", v})
				}
			}()
		}
	}()

	c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Send(pickle.NewList(2.25, nil, "junk", pickle.Global{Module: "builtins", Name: "float"}))
	reply, err := c.Recv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pickle.Repr(reply))
	// Output: ('echo', [2.25, None, 'junk', <class 'float'>])
}

// ExampleDial talks to a Python Listener such as
//
//	from multiprocessing.connection import Listener
//	with Listener(('127.0.0.1', 6000), authkey=b'secret') as l:
//	    with l.accept() as c:
//	        c.send_bytes(c.recv_bytes().upper())
//
// Here a Go Listener plays the Python part.
func ExampleDial() {
	cfg := &connection.Config{AuthKey: []byte("secret")}
	l, err := connection.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.AcceptConn()
		if err != nil {
			return
		}
		defer c.Close()
		p, _ := c.RecvBytes(0)
		c.SendBytes([]byte(fmt.Sprintf("%s!", p)))
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := connection.Dial(ctx, "", l.Addr().String(), cfg) // "" network: from the address
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.SendBytes([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.RecvBytesInto(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf[:n])
	// Output: hello!
}

// ExampleWait serves several connections from one goroutine, like
// multiprocessing.connection.wait.
func ExampleWait() {
	l, err := connection.Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	var servers []*connection.Conn
	var clients []*connection.Conn
	for range 3 {
		c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		s, err := l.AcceptConn()
		if err != nil {
			log.Fatal(err)
		}
		defer s.Close()
		clients = append(clients, c)
		servers = append(servers, s)
	}
	clients[2].Send("from the third")
	ready, err := connection.Wait(servers, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range ready {
		v, _ := s.Recv()
		fmt.Println(v)
	}
	// Output: from the third
}

// ExampleParseAddress shows how user-written addresses map to networks.
func ExampleParseAddress() {
	for _, a := range []string{"127.0.0.1:6000", "/tmp/app.sock", "@app", "\x00app"} {
		network, address := connection.ParseAddress(a)
		fmt.Printf("%q -> %s %q\n", a, network, address)
	}
	// Output:
	// "127.0.0.1:6000" -> tcp "127.0.0.1:6000"
	// "/tmp/app.sock" -> unix "/tmp/app.sock"
	// "@app" -> unix "@app"
	// "\x00app" -> unix "@app"
}
