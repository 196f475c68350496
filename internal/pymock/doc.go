// Package pymock is a scripted fake CPython multiprocessing client for tests that must not need
// Python: it dials a manager server, speaks the authentication handshake the way a given CPython
// version does (legacy HMAC-MD5 for 2.7 to 3.11, "{sha256}" for 3.12+), pickles requests with
// that version's protocol (2 with Python 2 names for 2.7, 3 for 3.6/3.7, 4 for 3.8+) and
// reads replies. It also reproduces the client-side choreography of BaseManager (create, incref,
// decref, accept_connection) and offers an in-memory listener for fuzzing.
package pymock
