package monitor_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mpgo/mpgo/managers/monitor"
)

// BenchmarkScrape is the server-side cost of one Prometheus scrape of /metrics (with the Go
// runtime and process collectors) and of one status page, against a server with a few objects.
func BenchmarkScrape(b *testing.B) {
	for _, path := range []string{"/metrics", "/"} {
		b.Run(path, func(b *testing.B) {
			srv, addr := startServer(b)
			traffic(b, dial(b, addr), 10)
			h := monitor.NewHandler(srv, nil)
			defer h.Close()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
