//go:build race

package compat_tests

// skipBig keeps the 64 MiB connection tests out of race-detector runs, where
// checking every byte is too slow.
const skipBig = true
