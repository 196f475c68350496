package natsqueue

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/mpgo/mpgo/pickle"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"
)

// Config configures a [Queue].
type Config struct {
	// Name is the queue name; the stream, subject and consumer names derive from it.
	Name string
	// Maxsize bounds the queue (0: unbounded). Opening an existing stream whose limit differs
	// is refused: lowering a stream's MaxMsgs silently drops items.
	Maxsize int
	// Replicas is the stream's replica count (0: 1).
	Replicas int
	// Redeliver is how long an item fetched by a server that died before replying stays
	// invisible before JetStream hands it out again (the consumer's AckWait; 0: 10s).
	Redeliver time.Duration
	// Logger receives the queue's logs; nil is silent.
	Logger logrus.FieldLogger
}

// Queue is a queue.Queue / JoinableQueue whose items live in a JetStream stream. It is safe
// for concurrent use. Create it with [Open]; Close it when done (items stay in the stream).
type Queue struct {
	js  jetstream.JetStream
	cfg Config
}

// errTODO marks the skeleton's unimplemented methods (replaced in the next commits).
var errTODO = errors.New("natsqueue: not implemented yet")

// Open creates (or binds to) the stream and consumer of the queue cfg.Name and starts its
// pull loop. ctx bounds the setup only.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Queue, error) {
	return &Queue{js: js, cfg: cfg}, errTODO
}

// Close stops the pull loop and returns pending items to the stream; the items stay there.
func (q *Queue) Close() error { return nil }

// Put adds v, waiting while the queue is full until ctx ends.
func (q *Queue) Put(ctx context.Context, v any) error { return errTODO }

// PutNowait adds v if there is room at once, else returns managers.ErrQueueFull.
func (q *Queue) PutNowait(v any) error { return errTODO }

// PutTimeout is Python's put(v, timeout=d): it returns managers.ErrQueueFull after waiting d.
func (q *Queue) PutTimeout(ctx context.Context, v any, d time.Duration) error { return errTODO }

// Get removes and returns the oldest item, waiting until there is one or ctx ends.
func (q *Queue) Get(ctx context.Context) (any, error) { return nil, errTODO }

// GetNowait returns an item if the stream holds one, else managers.ErrQueueEmpty.
func (q *Queue) GetNowait() (any, error) { return nil, errTODO }

// GetTimeout is Python's get(timeout=d): it returns managers.ErrQueueEmpty after waiting d.
func (q *Queue) GetTimeout(ctx context.Context, d time.Duration) (any, error) { return nil, errTODO }

// TaskDone marks one item as processed (see Join), across every server sharing the queue.
func (q *Queue) TaskDone() error { return errTODO }

// Join waits until every item put through any server has been marked done, or ctx ends.
func (q *Queue) Join(ctx context.Context) error { return errTODO }

// Qsize returns the number of items in the stream (see the package documentation).
func (q *Queue) Qsize() int { return 0 }

// Empty reports whether Qsize is 0.
func (q *Queue) Empty() bool { return q.Qsize() == 0 }

// Full reports whether Qsize has reached Maxsize (never for an unbounded queue).
func (q *Queue) Full() bool { return q.cfg.Maxsize > 0 && q.Qsize() >= q.cfg.Maxsize }

// Maxsize returns the queue's bound (0: unbounded).
func (q *Queue) Maxsize() int { return q.cfg.Maxsize }

// queueMethods is the exposed list of managers.Queue.
var queueMethods = []string{"empty", "full", "get", "get_nowait", "join", "put", "put_nowait", "qsize", "shutdown", "task_done"}

// ExposedMethods returns the methods Python clients may call (those of managers.Queue).
func (q *Queue) ExposedMethods() []string { return slices.Clone(queueMethods) }

// CallMethod serves queue.Queue's Python API.
func (q *Queue) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	return nil, errTODO
}
