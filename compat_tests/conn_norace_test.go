//go:build !race

package compat_tests

// skipBig is false without the race detector: the 64 MiB tests run.
const skipBig = false
