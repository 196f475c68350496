package monitor_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/monitor"
)

// A Go service that embeds a managers.Server registers its collector in the service's own
// Prometheus registry.
func ExampleNewCollector() {
	srv := &managers.Server{AuthKey: []byte("secret"), Registry: managers.NewRegistry()}

	reg := prometheus.NewRegistry()
	reg.MustRegister(monitor.NewCollector(srv))

	families, _ := reg.Gather()
	for _, f := range families {
		fmt.Println(f.GetName(), f.GetType())
	}
	// Output:
	// mpgo_connections GAUGE
	// mpgo_handshake_failures_total COUNTER
	// mpgo_request_duration_seconds HISTOGRAM
	// mpgo_requests_total COUNTER
	// mpgo_start_time_seconds GAUGE
}

// NewHandler serves /metrics, the status page (/) and /healthz; mount it on an HTTP server
// of its own (never the manager's port).
func ExampleNewHandler() {
	srv := &managers.Server{AuthKey: []byte("secret")}
	h := monitor.NewHandler(srv, nil)
	defer h.Close()
	web := httptest.NewServer(h) // e.g. http.ListenAndServe("127.0.0.1:9090", h)
	defer web.Close()

	res, err := http.Get(web.URL + "/healthz")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	// Output: 200 ok
}
