// Package natsqueue is a queue.Queue / JoinableQueue whose items live in a NATS JetStream
// stream, so that they survive a crash of the mpgo server and can be shared by several servers.
//
// A [Queue] has the Go API of managers.Queue (Put, Get, ... with a context) and serves the same
// Python API through CallMethod, so managers.Singleton(q) registers it under a typeid. [Open]
// binds a Queue to a JetStream context; [StartEmbedded] runs an in-process JetStream server
// (`mpgo serve --store DIR`) and [Connect] reaches an existing deployment (`mpgo serve --nats`).
// Packages managers and pickle do not import NATS; this package imports them.
//
// The semantics are stated in full in the package documentation sections below (filled in as
// the implementation lands).
package natsqueue
