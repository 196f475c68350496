package managers

import (
	"context"
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// CallIdent calls method on the shared object ident without a proxy and without taking a
// reference, as CPython's dispatch(conn, ident, method) does: for tools that know objects only
// by the idents debug_info lists (mpgo inspect asks queues their qsize this way). The object
// may be gone by the time of the call (a [*RemoteError] naming a KeyError). Use it for methods
// that return plain values: a method whose result the server registers as a new object
// ('#PROXY', method_to_typeid) is refused after the fact, leaving that object to the server.
func (c *Client) CallIdent(ctx context.Context, ident, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	if c.isClosed() {
		return nil, ErrClientClosed
	}
	rep, _, err := c.callMethod(ctx, nil, ident, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	if rep.kind == KindProxy {
		return nil, fmt.Errorf("managers: %s of %s returned a proxy: call it through a Proxy", method, ident)
	}
	return rep.payload, nil
}
