package connection

import (
	"context"

	"github.com/mpgo/mpgo/pickle"
	"github.com/mpgo/mpgo/wire"
)

// Send pickles v and sends it as one frame (Python's send). The protocol is
// [Config.Protocol], or in automatic mode 2 until a pickle has been received
// and then the peer's protocol (see [Conn.SendProtocol]). If v cannot be
// pickled nothing is sent and the connection stays usable.
func (c *Conn) Send(v any) error {
	return c.SendProtocol(v, c.sendProtocol())
}

// SendProtocol is [Conn.Send] with an explicit pickle protocol (0 to 5),
// for example to answer each message in the protocol it came in.
func (c *Conn) SendProtocol(v any, protocol int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	if c.werr != nil {
		return c.werr
	}
	if c.enc == nil {
		c.enc = pickle.NewEncoder(nil)
	}
	c.enc.SetPython2(false)
	c.enc.SetProtocol(protocol)
	c.enc.SetPython2(c.cfg.Python2)
	var zero [wire.ExtHeaderLen]byte
	b, err := c.enc.AppendEncode(append(c.wbuf[:0], zero[:]...), v)
	if err != nil {
		return err
	}
	c.wbuf = b
	off := wire.PutHeader(b, len(b)-wire.ExtHeaderLen)
	return c.flush(b[off:])
}

// SendContext is [Conn.Send] ended early by ctx (an interruption inside a
// frame breaks the connection).
func (c *Conn) SendContext(ctx context.Context, v any) error {
	stop := c.watch(ctx, false, true)
	err := c.Send(v)
	return ctxErr(err, stop())
}

// sendProtocol is the protocol Send uses now.
func (c *Conn) sendProtocol() int {
	if c.cfg.Protocol != 0 {
		return c.cfg.Protocol
	}
	if p := c.peerProto.Load(); p >= 2 {
		return int(p)
	}
	return 2
}
