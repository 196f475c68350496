package connection

import (
	"bytes"
	"context"

	"github.com/mpgo/mpgo/pickle"
)

// Recv reads one frame and unpickles it (Python's recv). The result is in
// the pickle value model (see package pickle); with [Config.Registry] set,
// registered classes become their Go types. Unpickling is data only: nothing
// named in the pickle is imported or called. In the automatic protocol mode
// the pickle's protocol becomes the one Send uses.
func (c *Conn) Recv() (any, error) {
	var v any
	if err := c.RecvInto(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// RecvInto reads one frame and unpickles it into v, as pickle.Unmarshal
// does (v is *any for the value model, or a pointer to a typed Go value).
// A frame that does not unpickle is consumed and its error returned; the
// connection stays usable.
func (c *Conn) RecvInto(v any) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		return err
	}
	c.left = nil
	p, err := c.nextReusedFrame()
	if err != nil {
		return err
	}
	// The decoder copies what it keeps (strings, bytes), so decoding
	// straight from the reused frame buffer is safe; a large frame has a
	// buffer of its own, which the decoded values may share.
	c.notePeerProtocol(p)
	if c.cfg.Registry == nil {
		return UnmarshalFrame(p, v)
	}
	d := pickle.NewDecoder(bytes.NewReader(p))
	d.SetRegistry(c.cfg.Registry)
	return d.Decode(v)
}

// UnmarshalFrame unpickles a payload [Conn.ReadFrame] returned, as
// pickle.Unmarshal does, except that a payload of [OwnedFrameSize] or more,
// which the Conn handed over, is decoded with [pickle.UnmarshalOwned]: its
// large bytes and str values share it instead of being copied.
func UnmarshalFrame(p []byte, v any) error {
	if len(p) >= OwnedFrameSize {
		return pickle.UnmarshalOwned(p, v)
	}
	return pickle.Unmarshal(p, v)
}

// RecvContext is [Conn.Recv] ended early by ctx (an interruption inside a
// frame breaks the connection).
func (c *Conn) RecvContext(ctx context.Context) (any, error) {
	stop := c.watch(ctx, true, false)
	v, err := c.Recv()
	return v, ctxErr(err, stop())
}

// notePeerProtocol records the protocol of a received pickle: PROTO (0x80)
// and its argument, or protocol 2 for a pickle without PROTO (protocols 0
// and 1, which only a Python 2 era peer sends).
func (c *Conn) notePeerProtocol(p []byte) {
	if len(p) >= 2 && p[0] == 0x80 {
		if proto := int32(p[1]); proto >= 2 && proto <= 5 {
			c.peerProto.Store(proto)
		}
		return
	}
	if len(p) > 0 {
		c.peerProto.Store(2)
	}
}

// PickleProtocol returns the protocol of a pickle from its first bytes:
// the argument of a leading PROTO opcode, else 0 (protocols 0 and 1 have no
// PROTO opcode), or -1 if p is empty.
func PickleProtocol(p []byte) int {
	if len(p) == 0 {
		return -1
	}
	if len(p) >= 2 && p[0] == 0x80 {
		return int(p[1])
	}
	return 0
}
