package xmlrpc

import "github.com/mpgo/mpgo/pickle"

// DateTime is an XML-RPC <dateTime.iso8601> value (xmlrpc.client.DateTime; xmlrpclib.DateTime
// in Python 2), kept as the text it was sent as, which is what CPython keeps too: usually
// "20260102T15:04:05".
type DateTime struct {
	Value string
}

// MarshalPickle returns the value as the call xmlrpc.client.DateTime(text) (xmlrpclib.DateTime
// for Python 2, whose DateTime is an old-style class that cannot be made with __new__), so that
// a pickle client gets the object an xmlrpclib client sent.
func (d DateTime) MarshalPickle() (any, error) {
	return pickle.NewObject(pickle.Global{Module: "xmlrpc.client", Name: "DateTime"}, d.Value), nil
}
