// Package monitor shows what a running [managers.Server] is doing: a Prometheus collector of
// its metrics and an HTTP handler serving them (/metrics), a status page a person reads (/) and
// a health check (/healthz). mpgo serve --http HOST:PORT uses it; a Go service that embeds a
// managers.Server registers the collector in its own registry:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(monitor.NewCollector(srv))
//
// The metrics are
//
//	mpgo_connections{state}                  gauge: authenticating (in the handshake), serving
//	mpgo_requests_total{typeid,method}       counter
//	mpgo_request_duration_seconds            histogram: a request's arrival to its reply's write,
//	                                         sampled (each connection's first request, every 8th after)
//	mpgo_objects{typeid}                     gauge: shared objects
//	mpgo_object_references{typeid}           gauge: the sum of their reference counts
//	mpgo_queue_length{typeid}                gauge: items in the typeid's shared queues
//	mpgo_queues{typeid}                      gauge: shared queues
//	mpgo_handshake_failures_total{reason}    counter: timeout, closed, wrong_key, protocol, shed, other
//	mpgo_start_time_seconds                  gauge
//
// and, from [NewHandler]'s own registry, the Go runtime (go_*) and process (process_*)
// collectors. Label values come only from the server's registry (typeids and exposed method
// names) and fixed names: public functions are typeid "#server", and an unknown object,
// method or function a client makes up is counted as "other", so no client can add series.
//
// The core packages (pickle, wire, connection, managers) import neither Prometheus nor
// net/http: the server keeps its counters with atomic adds (one per request, and two more and
// two clock reads for the sampled durations) and this package
// reads them through [managers.Server.Snapshot] when scraped.
package monitor
