package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	dir := flag.String("dir", "", "JetStream file storage directory (required)")
	name := flag.String("name", "", "server name (unique in a cluster; required with -cluster)")
	listen := flag.String("listen", "127.0.0.1:0", "client address HOST:PORT (port 0: any free port)")
	cluster := flag.String("cluster", "", "cluster (route) address HOST:PORT; empty: a single server")
	routes := flag.String("routes", "", "route URLs of other nodes, comma-separated (nats://HOST:PORT)")
	clusterName := flag.String("cluster-name", "mpgo-test", "cluster name")
	syncAlways := flag.Bool("sync-always", false, "fsync every write (JetStream's sync_interval: always)")
	logs := flag.Bool("log", false, "print the server's log to stderr")
	flag.Parse()
	if err := run(*dir, *name, *listen, *cluster, *routes, *clusterName, *syncAlways, *logs); err != nil {
		fmt.Fprintln(os.Stderr, "natsnode:", err)
		os.Exit(1)
	}
}

func hostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if n == 0 {
		n = server.RANDOM_PORT // 0 would be the server's default port
	}
	return h, n, err
}

func run(dir, name, listen, cluster, routes, clusterName string, syncAlways, logs bool) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	host, port, err := hostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %v", listen, err)
	}
	opts := &server.Options{
		ServerName: name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: syncAlways,
		NoSigs:     true,
	}
	if cluster != "" {
		if name == "" {
			return fmt.Errorf("-cluster needs -name")
		}
		ch, cp, err := hostPort(cluster)
		if err != nil {
			return fmt.Errorf("-cluster %q: %v", cluster, err)
		}
		opts.Cluster = server.ClusterOpts{Name: clusterName, Host: ch, Port: cp}
		if routes != "" {
			opts.Routes = server.RoutesFromStr(routes)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return err
	}
	if logs {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("server not ready within 30s")
	}
	fmt.Printf("CLIENT %s\n", s.ClientURL())
	if cluster != "" {
		a := s.ClusterAddr()
		fmt.Printf("CLUSTER nats://%s\n", net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port)))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
