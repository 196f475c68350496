// Package ratelog turns a flood of repeated events into a few log lines.
//
// A server exposed to the network sees events it must report but cannot
// afford to report one line each: failed handshakes, shed connections,
// refused clients. An attacker who can make one log line per connection can
// fill a disk. An [Aggregator] logs the first event of a quiet period in
// full, then counts the events that follow and writes one summary line per
// interval, with counts per remote address (the busiest first, bounded) and
// per reason, until an interval passes with none. 10,000 wrong keys in a
// minute cost a handful of lines, and the first one still shows the detail.
//
// It holds no goroutine: a summary is written by a timer armed only while
// events keep arriving.
package ratelog
