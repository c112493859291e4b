package server

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kvd/kvd/proto"
)

// Flags shared by the admin containers' subcommands (cmdspec: "admin
// noscript loading stale"; HELP subcommands: "loading stale").
const (
	adminFlags = Admin | NoScript | Loading | Stale
	helpFlags  = Loading | Stale
)

// registerServer registers the server family: INFO, TIME, LASTSAVE, WAIT,
// SHUTDOWN, LOLWUT, MONITOR, SLOWLOG and LATENCY.
func registerServer(r *Registry) {
	r.Add(&Command{Name: "info", Arity: -1, Flags: Loading | Stale, RunConn: cmdInfo})
	r.Add(&Command{Name: "time", Arity: 1, Flags: Loading | Stale | Fast, RunConn: cmdTime})
	r.Add(&Command{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast, RunConn: cmdLastSave})
	r.Add(&Command{Name: "wait", Arity: 3, Flags: NoScript, RunConn: cmdWait}) // blocking.go
	r.Add(&Command{Name: "shutdown", Arity: -1, Flags: adminFlags | NoMulti | AllowBusy, RunConn: cmdShutdown})
	r.Add(&Command{Name: "lolwut", Arity: -1, Flags: ReadOnly | Fast, RunConn: cmdLolwut})
	r.Add(&Command{Name: "monitor", Arity: 1, Flags: adminFlags, RunConn: cmdMonitor})

	r.AddContainer("slowlog", -2, 0)
	r.Add(&Command{Name: "slowlog|get", Arity: -2, Flags: Admin | Loading | Stale, RunConn: cmdSlowlogGet})
	r.Add(&Command{Name: "slowlog|len", Arity: 2, Flags: Admin | Loading | Stale, RunConn: cmdSlowlogLen})
	r.Add(&Command{Name: "slowlog|reset", Arity: 2, Flags: Admin | Loading | Stale, RunConn: cmdSlowlogReset})
	r.Add(&Command{Name: "slowlog|help", Arity: 2, Flags: helpFlags, RunConn: cmdSlowlogHelp})

	r.AddContainer("latency", -2, 0)
	r.Add(&Command{Name: "latency|latest", Arity: 2, Flags: adminFlags, RunConn: cmdLatencyLatest})
	r.Add(&Command{Name: "latency|history", Arity: 3, Flags: adminFlags, RunConn: cmdLatencyHistory})
	r.Add(&Command{Name: "latency|reset", Arity: -2, Flags: adminFlags, RunConn: cmdLatencyReset})
	r.Add(&Command{Name: "latency|doctor", Arity: 2, Flags: adminFlags, RunConn: cmdLatencyDoctor})
	r.Add(&Command{Name: "latency|graph", Arity: 3, Flags: adminFlags, RunConn: cmdLatencyGraph})
	r.Add(&Command{Name: "latency|help", Arity: 2, Flags: helpFlags, RunConn: cmdLatencyHelp})
	r.Add(&Command{Name: "latency|histogram", Arity: -2, Flags: adminFlags, RunConn: cmdLatencyHistogram})
}

// adminHelp writes a HELP reply as Redis's addReplyHelp: a header naming
// the command as typed (upper-cased), the lines, and the HELP footer.
func adminHelp(w *proto.Writer, cmd []byte, lines []string) {
	w.Array(len(lines) + 3)
	w.Simple(strings.ToUpper(string(cmd)) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.Simple(l)
	}
	w.Simple("HELP")
	w.Simple("    Prints this help.")
}

// adminSyntaxError is Redis's addReplySubcommandSyntaxError.
func adminSyntaxError(args [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + truncate(string(args[1]), 128) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

// admInt parses a signed 64-bit decimal as Redis's string2ll: optional
// '-', no '+', no leading zeros, no spaces.
func admInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	p := b
	if neg {
		p = p[1:]
	}
	if len(p) == 0 || p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ---- INFO, TIME ----

func cmdInfo(c *Conn, args [][]byte, w *proto.Writer) {
	w.Verbatim("txt", c.srv.infoString(args[1:]))
}

func cmdTime(c *Conn, args [][]byte, w *proto.Writer) {
	now := time.Now()
	w.Array(2)
	w.BulkInt(now.Unix())
	w.BulkInt(int64(now.Nanosecond() / 1000))
}

// cmdLastSave is the Unix time of the last successful save. kvd does not
// save yet; like Redis, which counts the dataset as saved when it starts,
// it answers the start time (INFO persistence's rdb_last_save_time).
func cmdLastSave(c *Conn, args [][]byte, w *proto.Writer) {
	w.Int(c.srv.startTime.Unix())
}

// ---- SHUTDOWN ----

// SetShutdownSave installs the function SHUTDOWN calls when it must save
// the dataset first (SHUTDOWN SAVE, or save points configured and no
// NOSAVE). Without one such a shutdown fails unless FORCE is given, since
// there would be nothing to save with.
func (s *Server) SetShutdownSave(fn func() error) {
	s.stats.admin.mu.Lock()
	s.stats.admin.shutdownSave = fn
	s.stats.admin.mu.Unlock()
}

func cmdShutdown(c *Conn, args [][]byte, w *proto.Writer) {
	var nosave, save, now, force, abort bool
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "now":
			now = true
		case "force":
			force = true
		case "abort":
			abort = true
		default:
			w.Error(ErrSyntax)
			return
		}
	}
	if (abort && (nosave || save || now || force)) || (nosave && save) {
		w.Error(ErrSyntax)
		return
	}
	if abort {
		// kvd shuts down at once: there is never a shutdown to abort.
		w.Error("ERR No shutdown in progress.")
		return
	}
	s := c.srv
	points, _ := s.cfg.Get("save")
	if save || (points != "" && !nosave) {
		s.stats.admin.mu.Lock()
		fn := s.stats.admin.shutdownSave
		s.stats.admin.mu.Unlock()
		var err error
		if fn == nil {
			err = shutdownNoSave
		} else {
			err = fn()
		}
		if err != nil {
			s.log.Warn("Error trying to save the DB, can't exit.", "err", err.Error())
			if !force {
				w.Error("ERR Errors trying to SHUTDOWN. Check logs.")
				return
			}
			s.log.Warn("Error trying to save the DB. Exit anyway.")
		}
	}
	s.log.Warn("User requested shutdown...", "client", c.id)
	// Like Redis, the client gets no reply: the connection just closes.
	c.quit = true
	go s.Close()
}

var shutdownNoSave = shutdownErr("no persistence is available to save the dataset")

type shutdownErr string

func (e shutdownErr) Error() string { return string(e) }

// ---- MONITOR ----

// cmdMonitor turns the connection into a monitor. The replies of the
// commands pipelined before MONITOR and its +OK are queued on the push
// stream before the connection is registered, so no monitored line can
// overtake them.
func cmdMonitor(c *Conn, args [][]byte, w *proto.Writer) {
	if c.isMon.Load() {
		return // Redis ignores MONITOR from a monitor, without a reply
	}
	c.async.start()
	var pending []byte
	cur := c.curReq()
	for _, r := range c.reqs {
		if r != cur && !r.noReply {
			pending = append(pending, r.out.B...)
			r.noReply = true
		}
	}
	if !cur.noReply {
		pending = append(pending, "+OK\r\n"...)
	}
	if len(pending) > 0 {
		c.async.push(pending)
	}
	c.srv.addMonitor(c)
}

// ---- SLOWLOG ----

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

func cmdSlowlogHelp(c *Conn, args [][]byte, w *proto.Writer) { adminHelp(w, args[0], slowlogHelp) }

func cmdSlowlogGet(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) > 3 {
		w.Error(adminSyntaxError(args))
		return
	}
	count := int64(10)
	if len(args) == 3 {
		n, ok := admInt(args[2])
		if !ok || n < -1 {
			w.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	n := int(min(count, math.MaxInt32))
	entries := c.srv.slowlog.get(n)
	w.Array(len(entries))
	for _, e := range entries {
		w.Array(6)
		w.Int(e.id)
		w.Int(e.when)
		w.Int(e.micros)
		w.StringArray(e.args)
		w.BulkString(e.addr)
		w.BulkString(e.name)
	}
}

func cmdSlowlogLen(c *Conn, args [][]byte, w *proto.Writer) { w.Int(int64(c.srv.slowlog.len())) }

func cmdSlowlogReset(c *Conn, args [][]byte, w *proto.Writer) {
	c.srv.slowlog.reset()
	w.OK()
}

// ---- LATENCY ----

var latencyHelp = []string{
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

func cmdLatencyHelp(c *Conn, args [][]byte, w *proto.Writer) { adminHelp(w, args[0], latencyHelp) }

func cmdLatencyLatest(c *Conn, args [][]byte, w *proto.Writer) {
	rows := c.srv.latency.latest()
	w.Array(len(rows))
	for _, r := range rows {
		w.Array(4)
		w.BulkString(r.event)
		w.Int(r.when)
		w.Int(r.latency)
		w.Int(r.max)
	}
}

func cmdLatencyHistory(c *Conn, args [][]byte, w *proto.Writer) {
	samples := c.srv.latency.history(string(args[2]))
	w.Array(len(samples))
	for _, s := range samples {
		w.Array(2)
		w.Int(s.when)
		w.Int(s.latency)
	}
}

func cmdLatencyReset(c *Conn, args [][]byte, w *proto.Writer) {
	names := make([]string, 0, len(args)-2)
	for _, a := range args[2:] {
		names = append(names, string(a))
	}
	w.Int(int64(c.srv.latency.reset(names)))
}

func cmdLatencyDoctor(c *Conn, args [][]byte, w *proto.Writer) {
	w.Verbatim("txt", c.srv.latency.doctor(c.srv.cfg))
}

func cmdLatencyGraph(c *Conn, args [][]byte, w *proto.Writer) {
	g, ok := c.srv.latency.graph(string(args[2]))
	if !ok {
		w.Error("ERR No samples available for event '" + string(args[2]) + "'")
		return
	}
	w.Verbatim("txt", g)
}

// ---- LOLWUT ----

// cmdLolwut is Redis's lolwutCommand: VERSION 5 draws Georg Nees's
// "Schotter", VERSION 6 a skyline after Plaguemon; any other version (and
// the default, 7.0) prints the version only, as Redis 7.0 does.
func cmdLolwut(c *Conn, args [][]byte, w *proto.Writer) {
	ver := uint32(7)
	rest := args[1:]
	if len(args) >= 3 && strings.EqualFold(string(args[1]), "version") {
		v, ok := admInt(args[2])
		if !ok {
			w.Error(ErrNotInteger)
			return
		}
		ver = uint32(v) // Redis prints it with %u after an (unsigned int) cast
		rest = args[3:]
	}
	var out string
	ok := true
	switch ver {
	case 5:
		out, ok = lolwut5(rest)
	case 6:
		out, ok = lolwut6(rest)
	default:
		out = "Redis ver. " + Version + "\n"
	}
	if !ok {
		w.Error(ErrNotInteger)
		return
	}
	w.Verbatim("txt", out)
}

// lolwutArgs parses up to len(dst) optional integer arguments into dst.
func lolwutArgs(args [][]byte, dst ...*int64) bool {
	for i, p := range dst {
		if i >= len(args) {
			break
		}
		v, ok := admInt(args[i])
		if !ok {
			return false
		}
		*p = v
	}
	return true
}

func lwClamp(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

// lwCanvas is Redis's lolwut canvas: one byte per pixel.
type lwCanvas struct {
	width, height int
	pixels        []byte
}

func lwNewCanvas(width, height int, bg byte) *lwCanvas {
	c := &lwCanvas{width: width, height: height, pixels: make([]byte, width*height)}
	if bg != 0 {
		for i := range c.pixels {
			c.pixels[i] = bg
		}
	}
	return c
}

func (c *lwCanvas) set(x, y int, color byte) {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return
	}
	c.pixels[x+y*c.width] = color
}

func (c *lwCanvas) get(x, y int) byte {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return 0
	}
	return c.pixels[x+y*c.width]
}

// line draws with Bresenham's algorithm, as lwDrawLine.
func (c *lwCanvas) line(x1, y1, x2, y2 int, color byte) {
	dx, dy := x2-x1, y2-y1
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	sx, sy := -1, -1
	if x1 < x2 {
		sx = 1
	}
	if y1 < y2 {
		sy = 1
	}
	err := dx - dy
	for {
		c.set(x1, y1, color)
		if x1 == x2 && y1 == y2 {
			break
		}
		e2 := err * 2
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

// square draws a square centred at x,y rotated by angle, as lwDrawSquare
// (C float arithmetic where Redis uses float).
func (c *lwCanvas) square(x, y int, size, angle float32, color byte) {
	var px, py [4]int
	size = float32(float64(size) / 1.4142135623)
	size = float32(math.Round(float64(size)))
	k := float32(math.Pi/4 + float64(angle))
	for j := 0; j < 4; j++ {
		px[j] = int(math.Round(math.Sin(float64(k))*float64(size) + float64(x)))
		py[j] = int(math.Round(math.Cos(float64(k))*float64(size) + float64(y)))
		k = float32(float64(k) + math.Pi/2)
	}
	for j := 0; j < 4; j++ {
		c.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4], color)
	}
}

// lwRand mimics C's rand() range for the lolwut generators.
func lwRand() int32 { return rand.Int32N(math.MaxInt32) }

const lwRandMax = math.MaxInt32

// lolwut5 renders Schotter: squares_per_row x squares_per_col squares,
// increasingly rotated and displaced towards the bottom, drawn in Braille
// characters (2x4 pixels each).
func lolwut5(args [][]byte) (string, bool) {
	cols, perRow, perCol := int64(66), int64(8), int64(12)
	if !lolwutArgs(args, &cols, &perRow, &perCol) {
		return "", false
	}
	cols = lwClamp(cols, 1, 1000)
	perRow = lwClamp(perRow, 1, 200)
	perCol = lwClamp(perCol, 1, 200)

	width := int(cols) * 2
	padding := 0
	if width > 4 {
		padding = 2
	}
	side := float32(width-padding*2) / float32(perRow)
	height := int(side*float32(perCol) + float32(padding*2))
	cv := lwNewCanvas(width, height, 0)
	for y := 0; y < int(perCol); y++ {
		for x := 0; x < int(perRow); x++ {
			sx := int(float32(x)*side + side/2 + float32(padding))
			sy := int(float32(y)*side + side/2 + float32(padding))
			var angle float32
			if y > 1 {
				r := func() float32 {
					return float32(lwRand()) / float32(lwRandMax) / float32(perCol) * float32(y)
				}
				r1, r2, r3 := r(), r(), r()
				if lwRand()%2 != 0 {
					r1 = -r1
				}
				if lwRand()%2 != 0 {
					r2 = -r2
				}
				if lwRand()%2 != 0 {
					r3 = -r3
				}
				angle = r1
				sx = int(float32(sx) + r2*side/3)
				sy = int(float32(sy) + r3*side/3)
			}
			cv.square(sx, sy, side, angle, 1)
		}
	}
	var b strings.Builder
	for y := 0; y < cv.height; y += 4 {
		for x := 0; x < cv.width; x += 2 {
			var bits rune
			for _, p := range [8]struct {
				dx, dy int
				bit    rune
			}{{0, 0, 0}, {0, 1, 1}, {0, 2, 2}, {1, 0, 3}, {1, 1, 4}, {1, 2, 5}, {0, 3, 6}, {1, 3, 7}} {
				if cv.get(x+p.dx, y+p.dy) != 0 {
					bits |= 1 << p.bit
				}
			}
			b.WriteRune(0x2800 + bits)
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ")
	b.WriteString(Version)
	b.WriteByte('\n')
	return b.String(), true
}

// lolwut6 renders a skyline of lwSkyscrapers in the four gray levels of a
// color terminal (LOLWUT [columns] [rows]).
func lolwut6(args [][]byte) (string, bool) {
	cols, rows := int64(80), int64(20)
	if !lolwutArgs(args, &cols, &rows) {
		return "", false
	}
	cols = lwClamp(cols, 1, 1000)
	rows = lwClamp(rows, 1, 1000)
	cv := lwNewCanvas(int(cols), int(rows), 3)
	lwSkyline(cv)
	var b strings.Builder
	for y := 0; y < cv.height; y++ {
		for x := 0; x < cv.width; x++ {
			ce := "0;30;40m"
			switch cv.get(x, y) {
			case 1:
				ce = "0;90;100m"
			case 2:
				ce = "0;37;47m"
			case 3:
				ce = "0;97;107m"
			}
			b.WriteString("\033[" + ce + " \033[0m")
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("\nDedicated to the 8 bit game developers of past and present.\n" +
		"Original 8 bit image from Plaguemon by hikikomori. Redis ver. ")
	b.WriteString(Version)
	b.WriteByte('\n')
	return b.String(), true
}

type lwSkyscraper struct {
	xoff, width, height int
	windows             bool
	color               byte
}

func lwDrawSkyscraper(cv *lwCanvas, si lwSkyscraper) {
	starty := cv.height - 1
	endy := starty - si.height + 1
	for y := starty; y >= endy; y-- {
		for x := si.xoff; x < si.xoff+si.width; x++ {
			// The roof is four pixels less wide.
			if y == endy && (x <= si.xoff+1 || x >= si.xoff+si.width-2) {
				continue
			}
			color := si.color
			if si.windows && x > si.xoff+1 && x < si.xoff+si.width-2 && y > endy+1 && y < starty-1 {
				relx, rely := x-(si.xoff+1), y-(endy+1)
				// Windows are two pixels wide and one tall.
				if (relx/2)%2 != 0 && rely%2 != 0 {
					for {
						color = byte(1 + lwRand()%2)
						if color != si.color {
							break
						}
					}
					if relx%2 != 0 {
						color = cv.get(x-1, y)
					}
				}
			}
			cv.set(x, y, color)
		}
	}
}

func lwSkyline(cv *lwCanvas) {
	// Background lwSkyscrapers without windows, lighter ones behind.
	for color := byte(2); color >= 1; color-- {
		for offset := -10; offset < cv.width; {
			offset += int(lwRand() % 8)
			si := lwSkyscraper{xoff: offset, width: 10 + int(lwRand()%9), color: color}
			if color == 2 {
				si.height = cv.height/2 + int(lwRand())%cv.height/2
			} else {
				si.height = cv.height/2 + int(lwRand())%cv.height/3
			}
			lwDrawSkyscraper(cv, si)
			if color == 2 {
				offset += si.width / 2
			} else {
				offset += si.width + 1
			}
		}
	}
	// Foreground lwSkyscrapers with windows.
	for offset := -10; offset < cv.width; {
		offset += int(lwRand() % 8)
		si := lwSkyscraper{xoff: offset, width: 5 + int(lwRand()%14), windows: true}
		if si.width%4 != 0 {
			si.width += si.width % 3
		}
		si.height = cv.height/3 + int(lwRand())%cv.height/2
		lwDrawSkyscraper(cv, si)
		offset += si.width + 5
	}
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: per command, its
// number of calls and the cumulative latency distribution in power-of-two
// microsecond buckets. Named containers include their subcommands;
// unknown names are skipped, as in Redis.
func cmdLatencyHistogram(c *Conn, args [][]byte, w *proto.Writer) {
	var cmds []*Command
	if len(args) == 2 {
		cmds = c.srv.histCommands()
	} else {
		for _, a := range args[2:] {
			cmd := c.srv.reg.LookupName(strings.ToLower(string(a)))
			if cmd == nil {
				continue
			}
			if cmd.stats.hist.Load() != nil {
				cmds = append(cmds, cmd)
			}
			for _, sub := range cmd.Subcommands() {
				if sub.stats.hist.Load() != nil {
					cmds = append(cmds, sub)
				}
			}
		}
	}
	w.Map(len(cmds))
	for _, cmd := range cmds {
		counts, total := cmd.stats.hist.Load().snapshot()
		cdf := histCDF(counts, total)
		w.BulkString(cmd.Name)
		w.Map(2)
		w.BulkString("calls")
		w.Int(total)
		w.BulkString("histogram_usec")
		w.Map(len(cdf))
		for _, p := range cdf {
			w.Int(p[0])
			w.Int(p[1])
		}
	}
}
