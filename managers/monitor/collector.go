package monitor

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// Connection states, the values of mpgo_connections' state label.
const (
	StateAuthenticating = "authenticating"
	StateServing        = "serving"
)

// failureReasons are the values of mpgo_handshake_failures_total's reason label, all exported
// from the start (at 0) so that rate() sees the first failure.
var failureReasons = []string{
	connection.ReasonTimeout, connection.ReasonClosed, connection.ReasonWrongKey,
	connection.ReasonProtocol, connection.ReasonShed, connection.ReasonOther,
}

var (
	descConnections = prometheus.NewDesc("mpgo_connections",
		"Connections to the manager server by state: authenticating (in the handshake) or serving (authenticated).",
		[]string{"state"}, nil)
	descRequests = prometheus.NewDesc("mpgo_requests_total",
		"Requests served, by typeid and method. Public functions have typeid \"#server\"; unknown objects, unexposed methods and unknown functions count as \"other\".",
		[]string{"typeid", "method"}, nil)
	descDuration = prometheus.NewDesc("mpgo_request_duration_seconds",
		"Time from a request's arrival to its reply's being written (blocking calls such as Queue.get included), sampled: each connection's first request and every 8th after it.",
		nil, nil)
	descObjects = prometheus.NewDesc("mpgo_objects",
		"Shared objects (those with a reference count, as debug_info lists them), by typeid.",
		[]string{"typeid"}, nil)
	descReferences = prometheus.NewDesc("mpgo_object_references",
		"The sum of the shared objects' reference counts (proxies held by clients), by typeid.",
		[]string{"typeid"}, nil)
	descQueueLength = prometheus.NewDesc("mpgo_queue_length",
		"Items in the shared queues of each typeid (one queue for a named queue, mpgo serve --queue NAME).",
		[]string{"typeid"}, nil)
	descQueues = prometheus.NewDesc("mpgo_queues",
		"Shared queues, by typeid.",
		[]string{"typeid"}, nil)
	descFailures = prometheus.NewDesc("mpgo_handshake_failures_total",
		"Failed authentication handshakes, by reason (timeout, closed, wrong_key, protocol, shed, other).",
		[]string{"reason"}, nil)
	descStart = prometheus.NewDesc("mpgo_start_time_seconds",
		"When the manager server started, in seconds since the Unix epoch.",
		nil, nil)
)

// Collector is a prometheus.Collector of a [managers.Server]'s metrics. Each scrape takes one
// [managers.Server.Snapshot]; the served requests pay nothing for it. Label values come only from
// the server's registry (typeids, exposed method names) and fixed names, so a client cannot
// add series.
type Collector struct {
	srv *managers.Server
}

// NewCollector returns the collector of srv's metrics.
func NewCollector(srv *managers.Server) *Collector { return &Collector{srv: srv} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnections, descRequests, descDuration, descObjects,
		descReferences, descQueueLength, descQueues, descFailures, descStart} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	collectSnapshot(ch, c.srv.Snapshot())
}

func collectSnapshot(ch chan<- prometheus.Metric, s managers.Snapshot) {
	ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(s.Started.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(s.Authenticating), StateAuthenticating)
	ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(s.Serving), StateServing)
	for _, r := range s.Requests {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(r.Count), r.TypeID, r.Method)
	}
	buckets := make(map[float64]uint64, len(s.Duration.Bounds))
	for i, b := range s.Duration.Bounds {
		buckets[b.Seconds()] = s.Duration.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(descDuration, s.Duration.Count, s.Duration.Sum.Seconds(), buckets)
	for _, o := range s.Objects {
		ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(o.Objects), o.TypeID)
		ch <- prometheus.MustNewConstMetric(descReferences, prometheus.GaugeValue, float64(o.RefCount), o.TypeID)
	}
	for _, q := range s.Queues {
		ch <- prometheus.MustNewConstMetric(descQueueLength, prometheus.GaugeValue, float64(q.Len), q.TypeID)
		ch <- prometheus.MustNewConstMetric(descQueues, prometheus.GaugeValue, float64(q.Queues), q.TypeID)
	}
	for _, reason := range failureReasons {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.HandshakeFailures[reason]), reason)
	}
	for reason, n := range s.HandshakeFailures { // a reason newer than this list
		if !slices.Contains(failureReasons, reason) {
			ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(n), reason)
		}
	}
}
