// Package managers speaks Python's multiprocessing.managers protocol: a server that hosts Go
// objects for unchanged CPython 2.7 and 3.6 to 3.13 BaseManager/SyncManager clients, and a Go
// client for Python (or Go) manager servers.
//
// # Server
//
// A [Server] owns a table of shared objects, each created from a typeid registered in its
// [Registry]. Python clients reach them through proxies:
//
//	reg := managers.NewRegistry()
//	q := managers.NewQueue(0)
//	reg.Register("get_queue", managers.Singleton(q)) // register('get_queue', callable=lambda: q)
//	srv := &managers.Server{AuthKey: []byte("secret"), Registry: reg}
//	go srv.ListenAndServe("tcp", "127.0.0.1:50000")
//	...
//	srv.Shutdown(ctx)
//
// and in Python:
//
//	class QueueManager(BaseManager): pass
//	QueueManager.register('get_queue')
//	m = QueueManager(address=('127.0.0.1', 50000), authkey=b'secret'); m.connect()
//	m.get_queue().put('hello')
//
// Shared objects implement [Object] (or use [ObjectFunc], or [Reflect] to expose the exported
// methods of any Go value under snake_case Python names). They must be safe for concurrent use:
// like CPython, the server does not serialise calls to one object.
//
// Values arrive in the pickle value model (package pickle: *pickle.Dict, pickle.Tuple, ...),
// which prints as Python's repr. For Go types, [NewTypedQueue] (and [NewTypedQueueProxy] on the
// client side) give a [TypedQueue] whose Get decodes each item into a struct with `pickle:"name"`
// field tags; [DecodeAs] and [CallInto] do the same for single values and calls. Instances of
// the clients' own classes (namedtuples, enum members, dataclasses) stay intact, and compare and
// hash by value as dict keys, set members and list items (see package pickle).
//
// # Wire protocol
//
// Every connection is authenticated (package connection) and carries pickled tuples. A one-shot
// connection carries one request (None, funcname, args, kwds) naming a public function (dummy,
// create, incref, decref, get_methods, debug_info, number_of_objects, shutdown) and one reply; the
// request (None, 'accept_connection', (name,), {}) turns a connection into a method-call channel
// carrying (ident, methodname, args, kwds) requests. Replies are ('#RETURN', value),
// ('#ERROR', exception), ('#TRACEBACK', text), ('#PROXY', (exposed, token)) and
// ('#UNSERIALIZABLE', text). The server answers each connection in the dialect of its first
// request: protocol 2 with Python 2 names for a Python 2 client, protocol 3 for 3.6/3.7, 4 (or 5)
// for 3.8+. See https://docs.python.org/3/library/multiprocessing.html#managers and
// PROTOCOL.md section 4 in the project's spec.
//
// # Serializers
//
// A manager made with BaseManager(..., serializer='xmlrpclib') sends the same requests and
// replies as XML-RPC documents instead of pickles. The server serves such clients on the same
// port as pickle clients: a connection's first frame tells its serializer (a document starts
// with '<', which no pickle does), and the connection's replies use it. XML-RPC carries less than
// pickle: a tuple arrives as a list, dict keys must be str, integers must fit in 64 bits (32 for
// what CPython itself can send), and exceptions, proxies and other objects cannot travel. An
// exception reaches an xmlrpclib client as a RemoteError whose text ends with the exception's
// "Type: message" line; a reply XML-RPC cannot carry becomes '#UNSERIALIZABLE' for that call
// only. The Go client speaks it with ClientConfig.Serializer = [SerializerXMLRPCLib].
//
// # Reference counts
//
// The server keeps CPython 3.x's reference counts: create leaves an object at 1, incref and
// decref count proxies, an object is forgotten when its count reaches 0. A proxy passed back to
// the server as an argument becomes a [*Ref], a live reference that keeps its referent reachable
// (as CPython's id_to_local_proxy_obj table does) while it is stored in another object.
//
// A client killed without its decrefs leaves its objects behind, as with CPython's server.
// [Server.ReclaimAfter] (off by default) releases objects that no live connection has used for a
// while; its documentation says exactly when that can also release an object a live client holds.
package managers
