package managers

import (
	"context"
	"errors"

	"github.com/mpgo/mpgo/pickle"
)

// ErrPoolUnsupported is the error (a '#TRACEBACK' for the Python client, which raises
// RemoteError) of SyncManager.Pool(): a multiprocessing.pool.Pool runs Python functions in
// worker processes of the server, which a Go server cannot do.
var ErrPoolUnsupported = errors.New("managers: Pool needs Python code executed on the server: " +
	"mpgo is a Go server and cannot run Python functions (apply, map, imap, ...); " +
	"use multiprocessing.Pool in the client process instead, and share its inputs and " +
	"results through mpgo's Queue, list or dict")

// newPool is the "Pool" typeid's constructor: it always fails with [ErrPoolUnsupported].
func newPool(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	return nil, ErrPoolUnsupported
}
