package xmlrpc

import "github.com/mpgo/mpgo/pickle"

// DateTime is an XML-RPC <dateTime.iso8601> value (xmlrpc.client.DateTime; xmlrpclib.DateTime
// in Python 2), kept as the text it was sent as, which is what CPython keeps too: usually
// "20260102T15:04:05".
type DateTime struct {
	Value string
}

// MarshalPickle returns the value as CPython pickles an xmlrpc.client.DateTime: the class
// created with __new__ and its __dict__ {'value': text} as state, so that a pickle client gets
// the same object an xmlrpclib client sent.
func (d DateTime) MarshalPickle() (any, error) {
	state := pickle.NewDict()
	_ = state.Set("value", d.Value)
	return &pickle.Object{
		Class: pickle.Global{Module: "xmlrpc.client", Name: "DateTime"},
		Kind:  pickle.BuildNewObj,
		Args:  pickle.Tuple{},
		State: state,
	}, nil
}
