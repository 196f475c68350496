package compat_tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the browser binaries the browser test looks for on PATH, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// chromium returns the path of a Chromium binary. With none it skips the test with a clear
// message, except under CI (CI=true), where .ci/run installs Debian's chromium and a missing
// browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no Chromium found on PATH (looked for %s): install Debian's chromium package (apt-get install chromium) to run the status page's browser test",
		strings.Join(chromiumNames, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestStatusPageInBrowser loads mpgo serve --http's status page in headless Chromium while
// Python clients (the oldest and the newest interpreter found) are connected, and checks the
// rendered text and that the charts have drawn lines.
func TestStatusPageInBrowser(t *testing.T) {
	browser := chromium(t)
	pys := pythons(t)
	if len(pys) > 1 {
		pys = []python{pys[0], pys[len(pys)-1]}
	}
	s := startMonitoredServer(t)
	const put = 4
	var clients []*pyProc
	for _, py := range pys {
		clients = append(clients, startMonitorClient(t, py, s, put))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	if err := chromedp.Do(bctx, chromedp.Navigate(s.url), chromedp.WaitVisible(chromedp.ID("queue-chart"))); err != nil {
		t.Fatalf("chromium: loading %s: %v", s.url, err)
	}
	text := run(t, bctx, chromedp.Text(chromedp.CSS("body")))
	refresh := run(t, bctx, chromedp.AttributeValue(chromedp.CSS(`meta[http-equiv="refresh"]`), "content"))
	// A line is drawn when its path has a length and a box of its own in the layout.
	lines := run(t, bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("svg.chart path.line")).filter(p => p.getTotalLength() > 0 && p.getBBox().width > 0).length`))
	rateLines := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll("#rate-chart path.line").length`))
	chartsBox := run(t, bctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("svg.chart")).map(s => s.getBoundingClientRect().height)`))
	nq := len(pys) // SyncManager queues: one per client
	for _, want := range []string{
		"mpgo manager server",
		s.addr,
		"Serving connections",
		fmt.Sprintf("jobs\t1\t%d", put*len(pys)),
		fmt.Sprintf("Queue\t%d\t%d", nq, (put/2+1)*nq),
		"release\t1\t0",
		"Requests per second",
		"Queue depth",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered page lacks %q:\n%s", want, text)
		}
	}
	if !refresh.Exists || refresh.Value == "" {
		t.Error("the page does not refresh itself")
	}
	if rateLines != 1 || lines < 4 { // the request rate, and the queues jobs, Queue and release
		t.Errorf("%d chart lines drawn (%d in the rate chart), want the rate and 3 queues", lines, rateLines)
	}
	if len(chartsBox) != 2 || chartsBox[0] <= 0 || chartsBox[1] <= 0 {
		t.Errorf("chart heights %v, want two charts laid out", chartsBox)
	}

	s.release(t)
	if len(clients) > 1 {
		s.release(t)
	}
	for _, c := range clients {
		var done struct{ Released string }
		c.JSONLine(time.Minute, &done)
		c.Wait(time.Minute)
	}
}

// run runs a chromedp action that returns a value, failing the test on an error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return v
}
