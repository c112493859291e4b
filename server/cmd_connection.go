package server

import "github.com/kvd/kvd/proto"

// registerConnection registers the connection family (PING, ECHO, HELLO,
// AUTH, SELECT, QUIT, RESET).
func registerConnection(r *Registry) {
	r.Add(&Command{Name: "ping", Arity: -1, Flags: Fast, RunConn: cmdPing})
}

func cmdPing(c *Conn, args [][]byte, w *proto.Writer) {
	switch len(args) {
	case 1:
		w.Simple("PONG")
	case 2:
		w.Bulk(args[1])
	default:
		w.Error(WrongArgs("ping"))
	}
}
