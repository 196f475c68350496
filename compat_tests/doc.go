// Package compat_tests runs real CPython interpreters against mpgo, in both directions.
//
// The tests are ordinary Go tests, run by `go test ./...` with everything else. Interpreters are
// found in this order: the PYTHONS environment variable (a list of interpreter paths separated by
// spaces, commas or colons), else every pyenv version (`pyenv root`/versions/*/bin/python), else
// python3 on PATH. Each scenario runs once per interpreter as a subtest named after it
// ("py2.7", "py3.6", ... "py3.13"). With no interpreter at all the tests skip with a message,
// except under CI (CI=true) where that is a failure.
//
// The Python side is in ../python_fixtures: standalone, standard-library-only scripts that take
// addresses and keys as arguments, print one JSON result line on stdout and diagnostics on
// stderr. Every server a test starts listens on 127.0.0.1:0 (or a temporary Unix path), and every
// process is killed when its test ends.
//
// The reliability tests (TestReliability*, Unix only) attack a server hosted by the test with raw
// sockets and hostile frames, kill Python clients mid-frame, inside blocking calls and while they
// hold locks, and then check that real clients are served and nothing queued was lost. Their
// cheap cases probe with the oldest and the newest interpreter found (Python 2 pickles and the
// legacy MD5 handshake; the "{sha256}" handshake and protocol 4/5), the idle-handshake flood and
// the client killed inside q.get() with every interpreter.
package compat_tests
