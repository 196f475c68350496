package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
)

// The durable-queue flags of serve: --store DIR (an embedded JetStream) or --nats URL[,URL...]
// (an existing deployment) make every --queue NAME and every --shared NAME=Queue(N) /
// JoinableQueue(N) a natsqueue.Queue, whose items live in a JetStream stream named after NAME.

// storeFlags holds --store, --nats and their options.
type storeFlags struct {
	store     string        // --store DIR
	nats      string        // --nats URL[,URL...]
	replicas  int           // --replicas N
	creds     string        // --nats-creds FILE
	fsync     string        // --fsync default|always
	listen    string        // --nats-listen HOST:PORT
	wait      time.Duration // --nats-wait
	redeliver time.Duration // --redeliver
}

// fsyncDefault and fsyncAlways are the values of --fsync.
const (
	fsyncDefault = "default"
	fsyncAlways  = "always"
)

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.store, "store", "", "make every --queue and every --shared Queue/JoinableQueue durable: an embedded NATS JetStream server keeps their items in files under DIR (in-process connection, no port unless --nats-listen); restarting with the same DIR brings every item back. Queues made with m.Queue() stay in memory")
	fs.StringVar(&f.nats, "nats", "", "like --store, but in an existing NATS JetStream deployment: URL[,URL...] (nats://HOST:PORT); every mpgo server given the same URLs and --queue NAME serves the same queue")
	fs.IntVar(&f.replicas, "replicas", 1, "with --nats: replicas of each queue's stream (1 to 5; 3 survives the loss of one node)")
	fs.StringVar(&f.creds, "nats-creds", "", "with --nats: the NATS user credentials file (JWT and NKey seed)")
	fs.StringVar(&f.fsync, "fsync", fsyncDefault, "with --store: when JetStream flushes its files to disk: default (JetStream's: every 2 minutes; a put survives kill -9 of mpgo, not a power loss) or always (before every put returns; survives power loss, slower)")
	fs.StringVar(&f.listen, "nats-listen", "", "with --store: also accept NATS clients on HOST:PORT (e.g. to inspect the streams with the nats CLI); default none")
	fs.DurationVar(&f.redeliver, "redeliver", 0, "with --store or --nats: if an mpgo server dies between taking an item for a get and replying, the item is handed out again after this delay (JetStream's ack wait; 0: natsqueue's default, 10s at most); a get whose client connection dies before the reply goes back at once")
	fs.DurationVar(&f.wait, "nats-wait", time.Minute, "with --store or --nats: how long start-up waits for JetStream to answer")
}

// enabled reports whether the queues are durable.
func (f *storeFlags) enabled() bool { return f.store != "" || f.nats != "" }

// urls splits --nats.
func (f *storeFlags) urls() []string {
	var out []string
	for _, u := range strings.Split(f.nats, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// validate checks the combination of flags.
func (f *storeFlags) validate() error {
	if f.store != "" && f.nats != "" {
		return usagef("--store and --nats exclude each other: --store runs an embedded JetStream, --nats uses an existing one")
	}
	if f.nats != "" && len(f.urls()) == 0 {
		return usagef("--nats: want URL[,URL...]")
	}
	if f.fsync != fsyncDefault && f.fsync != fsyncAlways {
		return usagef("--fsync %q: want default or always", f.fsync)
	}
	if f.fsync != fsyncDefault && f.store == "" {
		if f.nats != "" {
			return usagef("--fsync applies to --store: the NATS servers of --nats decide it (sync_interval in their jetstream configuration)")
		}
		return usagef("--fsync needs --store")
	}
	if f.listen != "" {
		if f.store == "" {
			return usagef("--nats-listen needs --store")
		}
		if _, _, err := net.SplitHostPort(f.listen); err != nil {
			return usagef("--nats-listen %q: want HOST:PORT", f.listen)
		}
	}
	if f.replicas < 1 || f.replicas > 5 {
		return usagef("--replicas %d: want 1 to 5 (JetStream's limits)", f.replicas)
	}
	if f.replicas != 1 && f.nats == "" {
		return usagef("--replicas needs --nats: the embedded server of --store is one node")
	}
	if f.creds != "" && f.nats == "" {
		return usagef("--nats-creds needs --nats")
	}
	if f.redeliver < 0 {
		return usagef("--redeliver must not be negative")
	}
	if f.wait <= 0 {
		return usagef("--nats-wait must be positive")
	}
	if f.store != "" {
		if st, err := os.Stat(f.store); err == nil && !st.IsDir() {
			return usagef("--store %s: not a directory", f.store)
		}
	}
	return nil
}

// durable is the JetStream behind the queues of one serve: the embedded server (--store) or the
// connection to a deployment (--nats), and the queues opened on it.
type durable struct {
	flags    *storeFlags
	log      logrus.FieldLogger
	emb      *natsqueue.Embedded // --store
	nc       *nats.Conn          // --nats
	js       jetstream.JetStream
	queues   []*natsqueue.Queue
	replicas int
}

// openDurable starts the embedded JetStream or connects to --nats, waiting at most --nats-wait
// for JetStream to answer. It returns nil without --store and --nats.
func openDurable(ctx context.Context, f *storeFlags, log logrus.FieldLogger, out io.Writer) (*durable, error) {
	if !f.enabled() {
		return nil, nil
	}
	d := &durable{flags: f, log: log, replicas: f.replicas}
	if f.store != "" {
		if err := os.MkdirAll(f.store, 0o700); err != nil {
			return nil, fmt.Errorf("--store: %v", err)
		}
		emb, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{
			Dir: f.store, Listen: f.listen, SyncAlways: f.fsync == fsyncAlways, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("--store %s: starting the embedded JetStream server: %w", f.store, err)
		}
		d.emb, d.js = emb, emb.JetStream
		fmt.Fprintf(out, "mpgo: durable queues in %s (embedded NATS JetStream, fsync %s)\n", f.store, f.fsync)
		if f.listen != "" {
			fmt.Fprintf(out, "mpgo: NATS clients on %s\n", emb.Server.ClientURL())
		}
		return d, nil
	}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	nc, js, err := natsqueue.Connect(wctx, f.urls(), f.creds, log)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil {
			return nil, fmt.Errorf("--nats %s: JetStream did not answer within %v (--nats-wait): %w", f.nats, f.wait, err)
		}
		return nil, fmt.Errorf("--nats %s: %w", f.nats, err)
	}
	d.nc, d.js = nc, js
	fmt.Fprintf(out, "mpgo: durable queues in NATS JetStream at %s (replicas %d)\n", nc.ConnectedUrlRedacted(), f.replicas)
	return d, nil
}

// queue opens the queue NAME (its stream is created, or reopened with its items). A maxsize other
// than the existing stream's is refused by natsqueue.Open with the reason.
func (d *durable) queue(ctx context.Context, name string, maxsize int) (*natsqueue.Queue, error) {
	octx, cancel := context.WithTimeout(ctx, d.flags.wait)
	defer cancel()
	q, err := natsqueue.Open(octx, d.js, natsqueue.Config{
		Name: name, Maxsize: maxsize, Replicas: d.replicas, Redeliver: d.flags.redeliver, Logger: d.log,
	})
	if err != nil {
		return nil, err
	}
	d.queues = append(d.queues, q)
	return q, nil
}

// close stops the queues' pull loops (items stay in their streams), then drains the connection
// or shuts the embedded server down.
func (d *durable) close() {
	if d == nil {
		return
	}
	for _, q := range d.queues {
		if err := q.Close(); err != nil {
			d.log.WithError(err).Warn("mpgo: closing a durable queue")
		}
	}
	if d.emb != nil {
		d.emb.Close()
	}
	if d.nc != nil {
		d.nc.Close() // every put waited for its PubAck: nothing is pending
	}
}

// newQueueObject returns the object behind --queue NAME: a durable queue with d, else an
// in-memory one.
func (d *durable) newQueueObject(ctx context.Context, name string, maxsize int) (managers.Object, error) {
	if d == nil {
		return managers.NewQueue(maxsize), nil
	}
	return d.queue(ctx, name, maxsize)
}
