// Package natstest starts NATS JetStream servers inside a test process: a single server with a
// client port ([StartServer]) and an n-node cluster on loopback random ports whose nodes can be
// stopped and restarted ([StartCluster]). Storage goes to a directory the caller owns (usually
// t.TempDir()). It is test support, not for production use.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long a server may take to accept clients.
const readyTimeout = 30 * time.Second

// Server is one JetStream server listening on a loopback random port.
type Server struct {
	// URL is the client URL, nats://127.0.0.1:PORT.
	URL string
	// Server is the running server (the latest one after Restart; nil while stopped).
	Server *server.Server

	opts *server.Options
}

// StartServer starts a single JetStream server storing in dir, with a client port on
// 127.0.0.1, and shuts it down when the test ends.
func StartServer(t testing.TB, dir string) *Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	}
	s, err := start(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Port = s.Addr().(*net.TCPAddr).Port // a restart keeps the port
	srv := &Server{URL: s.ClientURL(), Server: s, opts: opts}
	t.Cleanup(srv.Stop)
	return srv
}

// Stop shuts the server down (its storage stays) and waits for it.
func (s *Server) Stop() {
	if s.Server != nil {
		s.Server.Shutdown()
		s.Server.WaitForShutdown()
		s.Server = nil
	}
}

// Restart starts the stopped server again on the same port and storage.
func (s *Server) Restart() error {
	if s.Server != nil {
		return errors.New("natstest: the server is running")
	}
	srv, err := start(s.opts.Clone())
	if err != nil {
		return err
	}
	s.Server = srv
	return nil
}

func start(opts *server.Options) (*server.Server, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natstest: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natstest: server %s not ready after %v", opts.ServerName, readyTimeout)
	}
	return s, nil
}

// Cluster is an n-node JetStream cluster on loopback ports. Each node keeps its client and
// route ports across Stop and Restart, so URLs stay valid.
type Cluster struct {
	dir   string
	mu    sync.Mutex
	opts  []*server.Options
	nodes []*server.Server // nil while stopped
}

// StartCluster starts an n-node cluster storing under dir (one subdirectory per node) and
// shuts it down when the test ends. It returns once every node accepts clients and the
// JetStream meta group has a leader.
func StartCluster(t testing.TB, n int, dir string) *Cluster {
	t.Helper()
	c, err := NewCluster(n, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// NewCluster is StartCluster for callers without a testing.TB (a TestMain sharing one cluster
// between the tests of a binary); the caller calls Shutdown.
func NewCluster(n int, dir string) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("natstest: a cluster needs at least one node")
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	routes := make([]string, n)
	for i := range n {
		routes[i] = "nats://127.0.0.1:" + strconv.Itoa(ports[n+i])
	}
	c := &Cluster{dir: dir, nodes: make([]*server.Server, n)}
	for i := range n {
		name := "n" + strconv.Itoa(i)
		c.opts = append(c.opts, &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, name),
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "natstest",
				Host: "127.0.0.1",
				Port: ports[n+i],
			},
			Routes: server.RoutesFromStr(joinOthers(routes, i)),
		})
	}
	// Start the nodes concurrently: JetStream waits for its peers before it is ready.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.startNode(i)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Shutdown()
		return nil, err
	}
	if err := c.WaitReady(readyTimeout); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func joinOthers(routes []string, skip int) string {
	s := ""
	for i, r := range routes {
		if i == skip {
			continue
		}
		if s != "" {
			s += ","
		}
		s += r
	}
	return s
}

// freePorts returns n distinct loopback ports the kernel chose as free. They are released
// before the servers bind them, so another process could take one in between; the kernel
// does not hand a just-released ephemeral port out again soon.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("natstest: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) startNode(i int) error {
	c.mu.Lock()
	opts := c.opts[i].Clone()
	c.mu.Unlock()
	s, err := start(opts)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[i] = s
	c.mu.Unlock()
	return nil
}

// N returns the number of nodes.
func (c *Cluster) N() int { return len(c.opts) }

// URLs returns every node's client URL (stopped nodes included).
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.opts))
	for i := range c.opts {
		out[i] = c.URL(i)
	}
	return out
}

// URL returns node i's client URL.
func (c *Cluster) URL(i int) string {
	return "nats://127.0.0.1:" + strconv.Itoa(c.opts[i].Port)
}

// Node returns node i's server, nil while it is stopped.
func (c *Cluster) Node(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Stop shuts node i down (a clean shutdown; its storage stays) and waits for it.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts the stopped node i again with the same ports and storage and waits until it
// accepts clients.
func (c *Cluster) Restart(i int) error {
	if c.Node(i) != nil {
		return fmt.Errorf("natstest: node %d is running", i)
	}
	return c.startNode(i)
}

// WaitReady waits until every running node accepts clients and sees a JetStream meta leader.
func (c *Cluster) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ready := true
		c.mu.Lock()
		for _, s := range c.nodes {
			if s != nil && !s.JetStreamIsCurrent() {
				ready = false
			}
		}
		c.mu.Unlock()
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natstest: JetStream cluster not ready after %v", d)
		}
		time.Sleep(20 * time.Millisecond) // polling the servers' state: there is no event to wait on
	}
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.opts {
		c.Stop(i)
	}
}
