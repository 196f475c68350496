// Package golden reads the golden pickle corpus (pickle/testdata/golden):
// the compact subset of the pickles every CPython version wrote with
// python_fixtures/gen_pickle_corpus.py, one gzipped JSON Lines file per
// interpreter. It exists for tests, so that the pickle package and the
// packages built on it read the corpus the same way without Python.
package golden
