package monitor

import "html/template"

// pageTemplate is the status page: one self-contained document (inline CSS and SVG, no
// scripts, no external assets) that reloads itself every sample interval.
var pageTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mpgo manager{{range .Listeners}} {{.}}{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 60em; }
h1 { font-size: 1.4em; margin-bottom: .2em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .15em 1em .15em 0; }
td.n, th.n { text-align: right; }
.meta { color: #555; }
.closing { background: #fde2e1; color: #8a1c14; padding: .4em .8em; font-weight: bold; }
.tiles { display: flex; gap: 2em; flex-wrap: wrap; margin-top: 1em; }
.tile b { display: block; font-size: 1.6em; }
.none { color: #777; font-style: italic; }
svg.chart { display: block; }
svg.chart .axis { stroke: #999; stroke-width: 1; }
svg.chart .grid { stroke: #eee; stroke-width: 1; }
svg.chart text { font-size: 11px; fill: #555; }
svg.chart path.line { fill: none; stroke-width: 2; }
.legend span { margin-right: 1.2em; }
.legend i { display: inline-block; width: 1.5em; height: .3em; vertical-align: middle; margin-right: .3em; }
</style>
</head>
<body>
<h1>mpgo manager server</h1>
<div class="meta">Serving on <span id="listeners">{{range $i, $l := .Listeners}}{{if $i}}, {{end}}{{$l}}{{else}}(no listener){{end}}</span>
· up <span id="uptime">{{.Uptime}}</span> (since {{.Started}}) · {{.Now}}</div>
{{if .Closing}}<p class="closing" id="closing">Shutting down: no new connections are accepted.</p>{{end}}

<div class="tiles">
<div class="tile">Serving connections<b id="serving">{{.Serving}}</b></div>
<div class="tile">Authenticating<b id="authenticating">{{.Authenticating}}</b></div>
<div class="tile">Requests per second<b id="rate">{{.Rate}}</b></div>
<div class="tile">Requests<b id="total">{{.Total}}</b></div>
<div class="tile">Mean duration<b id="mean">{{if .Mean}}{{.Mean}}{{else}}–{{end}}</b></div>
</div>

<h2>Charts</h2>
{{template "chart" .RateChart}}
{{template "chart" .QueueChart}}

<h2>Queues</h2>
{{if .Queues}}<table id="queues">
<tr><th>typeid</th><th class="n">queues</th><th class="n">depth</th></tr>
{{range .Queues}}<tr><td>{{.TypeID}}</td><td class="n">{{.Queues}}</td><td class="n">{{.Len}}</td></tr>
{{end}}</table>{{else}}<p class="none">No shared queues.</p>{{end}}

<h2>Shared objects</h2>
{{if .Objects}}<table id="objects">
<tr><th>typeid</th><th class="n">objects</th><th class="n">references</th></tr>
{{range .Objects}}<tr><td>{{.TypeID}}</td><td class="n">{{.Objects}}</td><td class="n">{{.RefCount}}</td></tr>
{{end}}</table>{{else}}<p class="none">No shared objects.</p>{{end}}

<h2>Requests</h2>
{{if .Requests}}<table id="requests">
<tr><th>typeid</th><th>method</th><th class="n">requests</th></tr>
{{range .Requests}}<tr><td>{{.TypeID}}</td><td>{{.Method}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>{{if .MoreRequests}}<p class="meta">and {{.MoreRequests}} more (see /metrics)</p>{{end}}{{else}}<p class="none">No requests yet.</p>{{end}}

<h2>Handshake failures</h2>
{{if .Failures}}<table id="failures">
<tr><th>reason</th><th class="n">count</th></tr>
{{range .Failures}}<tr><td>{{.Reason}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
{{if .Recent}}<table id="recent-failures">
<tr><th>time (UTC)</th><th>remote</th><th>reason</th><th>error</th></tr>
{{range .Recent}}<tr><td>{{.Time}}</td><td>{{.Remote}}</td><td>{{.Reason}}</td><td>{{.Error}}</td></tr>
{{end}}</table>{{end}}{{else}}<p class="none">No failed handshakes.</p>{{end}}

<p class="meta">Metrics: <a href="metrics">/metrics</a> · health: <a href="healthz">/healthz</a> · this page reloads every {{.Refresh}} s.</p>
</body>
</html>
{{define "chart"}}<figure>
<figcaption>{{.Title}}</figcaption>
{{if .Empty}}<p class="none" id="{{.ID}}-empty">Not enough data yet.</p>{{else}}<svg class="chart" id="{{.ID}}" xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}">
<line class="grid" x1="{{.L}}" y1="{{.T}}" x2="{{.R}}" y2="{{.T}}"/>
<line class="axis" x1="{{.L}}" y1="{{.T}}" x2="{{.L}}" y2="{{.B}}"/>
<line class="axis" x1="{{.L}}" y1="{{.B}}" x2="{{.R}}" y2="{{.B}}"/>
<text x="{{.LabelX}}" y="{{.T}}" text-anchor="end" dominant-baseline="middle">{{.YMax}}</text>
<text x="{{.LabelX}}" y="{{.B}}" text-anchor="end" dominant-baseline="middle">0</text>
<text x="{{.L}}" y="{{.LabelY}}">{{.XFrom}}</text>
<text x="{{.R}}" y="{{.LabelY}}" text-anchor="end">now</text>
{{range .Series}}<path class="line" d="{{.Path}}" stroke="{{.Color}}"><title>{{.Name}}</title></path>
{{end}}</svg>
<div class="legend">{{range .Series}}<span><i style="background: {{.Color}}"></i>{{.Name}}</span>{{end}}</div>{{end}}
</figure>{{end}}
`))
