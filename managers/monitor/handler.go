package monitor

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpgo/mpgo/managers"
)

// Defaults of [Options].
const (
	DefaultSampleInterval = 5 * time.Second
	DefaultHistory        = 10 * time.Minute
)

// Options configure a [Handler]. The zero value is valid.
type Options struct {
	// Registry is what /metrics serves. nil: a new registry holding a [Collector] of the
	// server and the Go runtime and process collectors. A registry passed here is served as
	// it is (register NewCollector in it yourself).
	Registry *prometheus.Registry

	// SampleInterval is how often the status page's charts are sampled (and how often the page
	// reloads itself). 0: DefaultSampleInterval.
	SampleInterval time.Duration

	// History is how far back the charts go. 0: DefaultHistory.
	History time.Duration
}

// Handler serves a [managers.Server]'s metrics and status page:
//
//   - /metrics: Prometheus text format (client_golang's promhttp)
//   - /: a status page (HTML, no external assets) with the server's connections, objects,
//     queues, request rate and handshake failures, and charts of queue depth and request rate
//     over the last minutes; it reloads itself
//   - /healthz: 200 "ok" while the server serves, 503 once it is shutting down
//
// It samples the server in a goroutine of its own for the charts: call Close when done.
type Handler struct {
	srv      *managers.Server
	mux      *http.ServeMux
	interval time.Duration
	history  time.Duration

	mu      sync.Mutex
	samples []sample // oldest first, at most history/interval+1

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// sample is one point of the charts.
type sample struct {
	t        time.Time
	requests uint64         // all requests so far
	queues   map[string]int // queue depth by typeid
}

// NewHandler returns the Handler of srv and starts its sampler.
func NewHandler(srv *managers.Server, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = DefaultSampleInterval
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(NewCollector(srv), collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h := &Handler{srv: srv, mux: http.NewServeMux(), interval: o.SampleInterval, history: o.History,
		stop: make(chan struct{}), done: make(chan struct{})}
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /{$}", h.status)
	h.record(srv.Snapshot())
	go h.sampler()
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Close stops the sampler. The Handler still serves (with charts that no longer move).
func (h *Handler) Close() error {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
	return nil
}

func (h *Handler) sampler() {
	defer close(h.done)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.record(h.srv.Snapshot())
		}
	}
}

func sampleOf(s managers.Snapshot) sample {
	p := sample{t: s.Time, requests: totalRequests(s), queues: make(map[string]int, len(s.Queues))}
	for _, q := range s.Queues {
		p.queues[q.TypeID] = q.Len
	}
	return p
}

// record appends a sample, dropping those older than the history.
func (h *Handler) record(s managers.Snapshot) {
	p := sampleOf(s)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, p)
	cut := 0
	for cut < len(h.samples)-1 && p.t.Sub(h.samples[cut].t) > h.history {
		cut++
	}
	if cut > 0 {
		h.samples = append(h.samples[:0], h.samples[cut:]...)
	}
}

func totalRequests(s managers.Snapshot) uint64 {
	var n uint64
	for _, r := range s.Requests {
		n += r.Count
	}
	return n
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if h.srv.Closing() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "shutting down")
		return
	}
	fmt.Fprintln(w, "ok")
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	s := h.srv.Snapshot()
	h.mu.Lock()
	points := append(make([]sample, 0, len(h.samples)+1), h.samples...)
	h.mu.Unlock()
	if n := len(points); n == 0 || s.Time.After(points[n-1].t) {
		points = append(points, sampleOf(s)) // the live point ends the charts
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, h.page(s, points)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// page is what the status page template renders.
type page struct {
	Now, Uptime, Started    string
	Listeners               []string
	Closing                 bool
	Refresh                 int
	Authenticating, Serving int
	Rate                    string // requests per second over the last interval
	Total                   uint64
	Mean                    string // mean request duration
	Objects                 []managers.ObjectCount
	Queues                  []managers.QueueDepth
	Requests                []managers.RequestCount // the busiest pairs
	MoreRequests            int                     // pairs with requests not listed
	Failures                []reasonCount
	Recent                  []failureRow
	RateChart, QueueChart   chart
}

type reasonCount struct {
	Reason string
	Count  uint64
}

type failureRow struct {
	Time, Remote, Reason, Error string
}

// maxRequestRows bounds the request table of the page.
const maxRequestRows = 15

func (h *Handler) page(s managers.Snapshot, points []sample) page {
	p := page{
		Now:            s.Time.UTC().Format("2006-01-02 15:04:05 UTC"),
		Started:        s.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Uptime:         s.Time.Sub(s.Started).Round(time.Second).String(),
		Listeners:      s.Listeners,
		Closing:        s.Closing,
		Refresh:        int(math.Ceil(h.interval.Seconds())),
		Authenticating: s.Authenticating,
		Serving:        s.Serving,
		Total:          totalRequests(s),
		Objects:        s.Objects,
		Queues:         s.Queues,
	}
	if s.Duration.Count > 0 {
		p.Mean = (s.Duration.Sum / time.Duration(s.Duration.Count)).Round(time.Microsecond).String()
	}
	p.Rate = "–"
	if n := len(points); n >= 2 {
		a, b := points[n-2], points[n-1]
		if dt := b.t.Sub(a.t).Seconds(); dt > 0 {
			p.Rate = strconv.FormatFloat(float64(b.requests-a.requests)/dt, 'f', 1, 64)
		}
	}
	for _, r := range s.Requests {
		if r.Count > 0 {
			p.Requests = append(p.Requests, r)
		}
	}
	sort.SliceStable(p.Requests, func(i, j int) bool { return p.Requests[i].Count > p.Requests[j].Count })
	if len(p.Requests) > maxRequestRows {
		p.MoreRequests = len(p.Requests) - maxRequestRows
		p.Requests = p.Requests[:maxRequestRows]
	}
	for reason, n := range s.HandshakeFailures {
		p.Failures = append(p.Failures, reasonCount{reason, n})
	}
	sort.Slice(p.Failures, func(i, j int) bool { return p.Failures[i].Reason < p.Failures[j].Reason })
	for _, f := range s.RecentFailures {
		p.Recent = append(p.Recent, failureRow{Time: f.Time.UTC().Format("15:04:05"), Remote: f.Remote, Reason: f.Reason, Error: f.Error})
	}
	p.RateChart = h.rateChart(points, s.Time)
	p.QueueChart = h.queueChart(points, s)
	return p
}

// Chart geometry (SVG user units).
const (
	chartW, chartH = 640, 160
	plotL, plotR   = 48, 632 // plot area, x
	plotT, plotB   = 10, 140 // plot area, y
)

// chart is one inline SVG line chart.
type chart struct {
	ID, Title      string
	W, H           int
	L, R, T, B     int
	YMax, XFrom    string
	Series         []series
	Empty          bool // no series: say so instead of drawing
	LabelX, LabelY int

	from time.Time     // the time at the left edge
	span time.Duration // the time from the left edge to the right
}

type series struct {
	Name, Color, Path string
}

// palette colours the series (colour-blind-safe Okabe-Ito hues).
var palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"}

// maxQueueSeries bounds the queue chart's lines (the deepest queues get them).
const maxQueueSeries = 6

// newChart returns a chart whose time axis ends at now and starts at the oldest sample, at
// most the history back.
func (h *Handler) newChart(id, title string, points []sample, now time.Time) chart {
	span := h.history
	if len(points) > 0 && now.Sub(points[0].t) < span {
		span = now.Sub(points[0].t)
	}
	return chart{ID: id, Title: title, W: chartW, H: chartH, L: plotL, R: plotR, T: plotT, B: plotB,
		XFrom: "−" + fmtSpan(span), LabelX: plotL - 4, LabelY: plotB + 14, from: now.Add(-span), span: span}
}

func fmtSpan(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return d.String()
}

// path renders values at times ts as an SVG path over the chart's time span and [0, ymax].
func (c *chart) path(ts []time.Time, vs []float64, ymax float64) string {
	var b strings.Builder
	span := c.span.Seconds()
	if span <= 0 {
		span = 1
	}
	for i := range ts {
		x := plotL + (plotR-plotL)*ts[i].Sub(c.from).Seconds()/span
		x = math.Max(plotL, math.Min(plotR, x))
		y := plotB - (plotB-plotT)*vs[i]/ymax
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&b, "%s%.1f %.1f ", cmd, x, y)
	}
	return strings.TrimSpace(b.String())
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (h *Handler) rateChart(points []sample, now time.Time) chart {
	c := h.newChart("rate-chart", "Requests per second", points, now)
	if len(points) < 2 {
		c.Empty = true
		return c
	}
	ts := make([]time.Time, 0, len(points)-1)
	vs := make([]float64, 0, len(points)-1)
	for i := 1; i < len(points); i++ {
		dt := points[i].t.Sub(points[i-1].t).Seconds()
		if dt <= 0 {
			continue
		}
		ts = append(ts, points[i].t)
		vs = append(vs, float64(points[i].requests-points[i-1].requests)/dt)
	}
	if len(ts) == 0 {
		c.Empty = true
		return c
	}
	if len(ts) == 1 { // one interval: a level line across it
		ts = append([]time.Time{points[0].t}, ts...)
		vs = append([]float64{vs[0]}, vs...)
	}
	ymax := niceMax(slicesMax(vs))
	c.YMax = fmtValue(ymax)
	c.Series = []series{{Name: "all requests", Color: palette[0], Path: c.path(ts, vs, ymax)}}
	return c
}

func (h *Handler) queueChart(points []sample, s managers.Snapshot) chart {
	c := h.newChart("queue-chart", "Queue depth", points, s.Time)
	queues := append([]managers.QueueDepth(nil), s.Queues...)
	sort.SliceStable(queues, func(i, j int) bool { return queues[i].Len > queues[j].Len })
	if len(queues) > maxQueueSeries {
		queues = queues[:maxQueueSeries]
	}
	if len(queues) == 0 || len(points) < 2 {
		c.Empty = true
		return c
	}
	ts := make([]time.Time, len(points))
	vals := make([][]float64, len(queues))
	ymax := 0.0
	for i, p := range points {
		ts[i] = p.t
		for j, q := range queues {
			v := float64(p.queues[q.TypeID])
			vals[j] = append(vals[j], v)
			ymax = math.Max(ymax, v)
		}
	}
	ymax = niceMax(ymax)
	c.YMax = fmtValue(ymax)
	for j, q := range queues {
		c.Series = append(c.Series, series{Name: q.TypeID, Color: palette[j%len(palette)], Path: c.path(ts, vals[j], ymax)})
	}
	return c
}

func slicesMax(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}
