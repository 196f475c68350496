package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// SVG chart geometry (user units): one panel per workload, side by side.
const (
	svgPanelW, svgPanelH = 420, 300
	svgLeft, svgRight    = 64, 16 // plot margins inside a panel
	svgTop, svgBottom    = 36, 48
	svgLegendH           = 28
)

// svgPalette colours the servers (colour-blind-safe Okabe-Ito hues).
var svgPalette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"}

// writeSVG writes the Go load generator's results as an SVG chart (-svg): ops/s against
// connections, one line per server, one panel per workload. The echo server ran only the
// first workload; its line (the transport floor) is drawn in every panel.
func writeSVG(w io.Writer, o *options, names []string, rep *report) {
	var panels []string
	for _, wl := range o.workloads {
		panels = append(panels, string(wl))
	}
	width := svgPanelW * len(panels)
	height := svgPanelH + svgLegendH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	keyOf := func(server, wl string, conns int) string {
		if server == "echo" {
			wl = string(o.workloads[0])
		}
		return fmt.Sprintf("%s/%d", wl, conns)
	}
	for pi, wl := range panels {
		x0 := pi * svgPanelW
		plotW := float64(svgPanelW - svgLeft - svgRight)
		plotH := float64(svgPanelH - svgTop - svgBottom)
		ymax := 0.0
		for _, n := range names {
			for _, c := range o.conns {
				if a := rep.Go[n][keyOf(n, wl, c)]; a != nil {
					ymax = math.Max(ymax, a.OpsPerSec)
				}
			}
		}
		ymax = svgNiceMax(ymax)
		xOf := func(i int) float64 { // connection counts are spaced evenly (they grow by factors)
			if len(o.conns) == 1 {
				return float64(x0+svgLeft) + plotW/2
			}
			return float64(x0+svgLeft) + plotW*float64(i)/float64(len(o.conns)-1)
		}
		yOf := func(v float64) float64 { return float64(svgTop) + plotH*(1-v/ymax) }
		fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s: ops/s by connections</text>`+"\n", x0+svgLeft, html.EscapeString(wl))
		for t := 0; t <= 4; t++ { // horizontal grid and y labels
			v := ymax * float64(t) / 4
			y := yOf(v)
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", x0+svgLeft, y, float64(x0+svgLeft)+plotW, y)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#555">%s</text>`+"\n", x0+svgLeft-6, y, fmtOps(v))
		}
		for i, c := range o.conns { // x labels
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%d</text>`+"\n", xOf(i), float64(svgTop)+plotH+16, c)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">connections</text>`+"\n", float64(x0+svgLeft)+plotW/2, float64(svgTop)+plotH+34)
		for si, n := range names {
			color := svgPalette[si%len(svgPalette)]
			var pts []string
			for i, c := range o.conns {
				a := rep.Go[n][keyOf(n, wl, c)]
				if a == nil {
					continue
				}
				x, y := xOf(i), yOf(a.OpsPerSec)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s/%d: %s ops/s</title></circle>`+"\n",
					x, y, color, html.EscapeString(n), html.EscapeString(wl), c, fmtOps(a.OpsPerSec))
			}
			if len(pts) > 1 {
				dash := ""
				if n == "echo" {
					dash = ` stroke-dasharray="5,4"`
				}
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), color, dash)
			}
		}
	}
	x := svgLeft
	for si, n := range names { // legend
		color := svgPalette[si%len(svgPalette)]
		label := n
		if n == "echo" {
			label = "echo (transport floor)"
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`, x, svgPanelH+8, x+20, svgPanelH+8, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", x+26, svgPanelH+8, html.EscapeString(label))
		x += 40 + 8*len(label)
	}
	b.WriteString("</svg>\n")
	io.WriteString(w, b.String())
}

// svgNiceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func svgNiceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
