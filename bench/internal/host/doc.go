// Package host is what the benchmark commands need to know about the machine
// they run on: which CPython to start, how many file descriptors they may
// hold, and how much memory a process uses.
package host
