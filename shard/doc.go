// Package shard owns the keyspace: the fixed set of slots, the slot→worker
// map, the worker goroutines and their queues, the stored objects and their
// expiry.
//
// It knows no sockets and no RESP. The server hands it Jobs grouped in
// Batches; a worker runs each job on the slots it owns, with no lock on the
// data. Whatever a job writes as a reply is the job's business.
//
// Ownership rules (who may touch what):
//   - Slot data (Engine.slots[s]) is touched only by the worker that owns s,
//     or by a Barrier's function while every worker the barrier holds is
//     parked inside it. Happens-before between those is carried by the
//     worker queues and the barrier's atomics/channel.
//   - A Job's reply buffers belong to the submitter; the worker writes them
//     and signals Batch.Done, after which it never touches them again.
//   - Byte slices passed into the keyspace (keys, values) are copied when
//     stored; slices returned (Object.Str) are valid until the next command
//     on the same worker and must not be retained by the caller.
//
// Multi-worker atomicity: a command touching several workers is one Barrier
// job placed in each worker's queue. Barriers are enqueued under
// Engine.multiMu, so every worker sees them in the same relative order and
// they cannot deadlock; the last worker to arrive runs the function while
// the others wait, then releases them.
//
// Ownership changes at run time (migrate.go): a slot moves by a Barrier
// over its old and new owner, queued under multiMu, after which the new
// slot map is published. Whoever routes by the slot map tags its Batch with
// the map's Epoch; a worker that gets a batch routed before it lost a slot
// sends back the jobs that touch the slot (Batch.Ran) instead of running
// them. Workers are added and removed (AddWorker, RemoveWorker) with the
// same mechanism; the worker list is published copy-on-write. Per-worker
// and per-slot load counters are in load.go.
package shard
