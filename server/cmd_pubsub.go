package server

import (
	"sync"

	"github.com/kvd/kvd/proto"
)

// psFlags are the Redis flags of the (un)subscribe commands:
// pubsub noscript loading stale.
const psFlags = PubSub | NoScript | Loading | Stale

var psResetOnce sync.Once

// registerPubSub registers the Pub/Sub family (pubsub.go holds the hub).
// PUBLISH and SPUBLISH touch no key data, so they run on the IO goroutine
// like the subscribe commands; SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE keep
// Redis's key range (COMMAND INFO, GETKEYS) without being routed by it.
func registerPubSub(r *Registry) {
	r.Add(&Command{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate, RunConn: cmdPublish})
	r.Add(&Command{Name: "spublish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate, FirstKey: 1, LastKey: 1, Step: 1, RunConn: cmdSPublish})
	r.Add(&Command{Name: "subscribe", Arity: -2, Flags: psFlags, RunConn: cmdSubscribe})
	r.Add(&Command{Name: "unsubscribe", Arity: -1, Flags: psFlags, RunConn: cmdUnsubscribe})
	r.Add(&Command{Name: "psubscribe", Arity: -2, Flags: psFlags, RunConn: cmdPSubscribe})
	r.Add(&Command{Name: "punsubscribe", Arity: -1, Flags: psFlags, RunConn: cmdPUnsubscribe})
	r.Add(&Command{Name: "ssubscribe", Arity: -2, Flags: psFlags, FirstKey: 1, LastKey: -1, Step: 1, RunConn: cmdSSubscribe})
	r.Add(&Command{Name: "sunsubscribe", Arity: -1, Flags: psFlags, FirstKey: 1, LastKey: -1, Step: 1, RunConn: cmdSUnsubscribe})
	r.AddContainer("pubsub", -2, 0)
	const sub = PubSub | Loading | Stale
	r.Add(&Command{Name: "pubsub|channels", Arity: -2, Flags: sub, RunConn: cmdPubSubChannels})
	r.Add(&Command{Name: "pubsub|numsub", Arity: -2, Flags: sub, RunConn: cmdPubSubNumSub})
	r.Add(&Command{Name: "pubsub|numpat", Arity: 2, Flags: sub, RunConn: cmdPubSubNumPat})
	r.Add(&Command{Name: "pubsub|shardchannels", Arity: -2, Flags: sub, RunConn: cmdPubSubShardChannels})
	r.Add(&Command{Name: "pubsub|shardnumsub", Arity: -2, Flags: sub, RunConn: cmdPubSubShardNumSub})
	r.Add(&Command{Name: "pubsub|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdPubSubHelp})
	psResetOnce.Do(func() {
		// RESET leaves every subscription without confirmations.
		connResetHooks = append(connResetHooks, (*Conn).pubsubClose)
	})
}

func cmdPublish(c *Conn, args [][]byte, w *proto.Writer) {
	if c.async.started.Load() { // it may be its own subscriber
		c.drainEarlier()
	}
	w.Int(int64(c.srv.publish(args[1], args[2])))
}

func cmdSPublish(c *Conn, args [][]byte, w *proto.Writer) {
	if c.async.started.Load() {
		c.drainEarlier()
	}
	w.Int(int64(c.srv.spublish(args[1], args[2])))
}

func psSubscribeCmd(kind int) func(c *Conn, args [][]byte, w *proto.Writer) {
	return func(c *Conn, args [][]byte, w *proto.Writer) {
		c.psBegin()
		for _, a := range args[1:] {
			c.subscribe(kind, a)
		}
	}
}

func psUnsubscribeCmd(kind int) func(c *Conn, args [][]byte, w *proto.Writer) {
	return func(c *Conn, args [][]byte, w *proto.Writer) {
		c.psBegin()
		if len(args) == 1 {
			c.unsubscribeAll(kind, true)
			return
		}
		for _, a := range args[1:] {
			c.unsubscribe(kind, a, true)
		}
	}
}

var (
	cmdSubscribe    = psSubscribeCmd(psChannel)
	cmdPSubscribe   = psSubscribeCmd(psPat)
	cmdSSubscribe   = psSubscribeCmd(psShardChannel)
	cmdUnsubscribe  = psUnsubscribeCmd(psChannel)
	cmdPUnsubscribe = psUnsubscribeCmd(psPat)
	cmdSUnsubscribe = psUnsubscribeCmd(psShardChannel)
)

func pubsubChannels(c *Conn, args [][]byte, w *proto.Writer, shard bool) {
	if len(args) > 3 {
		w.Error(subcommandSyntaxError(args))
		return
	}
	var pat []byte
	if len(args) == 3 {
		pat = args[2]
	}
	w.StringArray(c.srv.ps.channels(shard, pat))
}

func cmdPubSubChannels(c *Conn, args [][]byte, w *proto.Writer) {
	pubsubChannels(c, args, w, false)
}

func cmdPubSubShardChannels(c *Conn, args [][]byte, w *proto.Writer) {
	pubsubChannels(c, args, w, true)
}

func pubsubNumSub(c *Conn, args [][]byte, w *proto.Writer, shard bool) {
	w.Array(2 * (len(args) - 2))
	for _, ch := range args[2:] {
		w.Bulk(ch)
		w.Int(int64(c.srv.ps.numSub(shard, ch)))
	}
}

func cmdPubSubNumSub(c *Conn, args [][]byte, w *proto.Writer) { pubsubNumSub(c, args, w, false) }

func cmdPubSubShardNumSub(c *Conn, args [][]byte, w *proto.Writer) {
	pubsubNumSub(c, args, w, true)
}

func cmdPubSubNumPat(c *Conn, args [][]byte, w *proto.Writer) { w.Int(c.srv.ps.npat.Load()) }

// pubsubHelp is Redis 7.0.15's PUBSUB HELP text.
var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

func cmdPubSubHelp(c *Conn, args [][]byte, w *proto.Writer) {
	w.Array(len(pubsubHelp))
	for _, l := range pubsubHelp {
		w.Simple(l)
	}
}
