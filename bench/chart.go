package main

// PNG charts for bench results.
//
// API (package main, used by compare and by other bench subcommands):
//
//	type Series struct { Name string; X, Y []float64 }
//	type LineChart struct {
//		Title, XLabel, YLabel string
//		Series        []Series // one line each, Y[i] at X[i]; X ascending
//		Width, Height int      // pixels; 0 = 1000 x 450
//		YMin          *float64 // nil = 0 or the data minimum if negative
//	}
//	func (c LineChart) Image() *image.RGBA
//	func (c LineChart) WritePNG(path string) error
//
//	type BarGroup struct { Label string; Values []float64 } // one value per BarChart.Series; NaN = missing
//	type BarChart struct {
//		Title, YLabel string
//		Series        []string   // legend names, one bar per group each
//		Groups        []BarGroup // Label may hold "\n" for a second line
//		RefLine       float64    // dashed horizontal line at this y (0 = none)
//		Width, Height int        // 0 = 60 px per group (at least 900) x 450
//	}
//	func (c BarChart) Image() *image.RGBA
//	func (c BarChart) WritePNG(path string) error
//
//	func WritePNGs(path string, imgs ...image.Image) error // panels stacked vertically
//
// Why drawn by hand with image/png: the charts need grouped bars with a
// legend and a reference line at ratio 1.0, which go-chart v2 (the usual
// library; its BarChart draws one value per bar, no legend, no groups) does
// not do without reimplementing its renderer, and it pulls in freetype and is
// unmaintained since 2021. Axes, bars, lines and a legend are ~300 lines
// here; the only dependency is golang.org/x/image v0.47.0 for the Go font
// (goregular) and its rasterizer.

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Series is one named line of a LineChart.
type Series struct {
	Name string
	X, Y []float64
}

// LineChart draws series over a numeric x axis (time, usually).
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Width, Height         int
	YMin                  *float64
}

// BarGroup is one cluster of bars: Values[i] belongs to BarChart.Series[i].
type BarGroup struct {
	Label  string
	Values []float64
}

// BarChart draws grouped bars with a legend.
type BarChart struct {
	Title, YLabel string
	Series        []string
	Groups        []BarGroup
	RefLine       float64
	Width, Height int
}

// palette is colour-blind friendly (Okabe-Ito).
var palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // green
	{204, 121, 167, 255}, // purple
	{86, 180, 233, 255},  // sky
	{213, 94, 0, 255},    // vermillion
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},       // black
}

var (
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{220, 220, 220, 255}
	dark  = color.RGBA{90, 90, 90, 255}
)

var (
	faceOnce          sync.Once
	faceNorm, faceBig font.Face
)

func faces() (font.Face, font.Face) {
	faceOnce.Do(func() {
		f, err := opentype.Parse(goregular.TTF)
		if err != nil {
			panic(err) // the embedded font always parses
		}
		faceNorm, _ = opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: 72, Hinting: font.HintingFull})
		faceBig, _ = opentype.NewFace(f, &opentype.FaceOptions{Size: 16, DPI: 72, Hinting: font.HintingFull})
	})
	return faceNorm, faceBig
}

// canvas wraps an RGBA image with the few primitives the charts need.
type canvas struct{ img *image.RGBA }

func newCanvas(w, h int) canvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return canvas{img}
}

func (c canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	if x1 < x0 {
		x0, x1 = x1, x0
	}
	if y1 < y0 {
		y0, y1 = y1, y0
	}
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

// line draws a segment of the given thickness; dash > 0 draws dashes of
// that many pixels.
func (c canvas) line(x0, y0, x1, y1 float64, width int, col color.Color, dash int) {
	dx, dy := x1-x0, y1-y0
	n := int(math.Max(math.Abs(dx), math.Abs(dy)))
	if n == 0 {
		n = 1
	}
	for i := 0; i <= n; i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		t := float64(i) / float64(n)
		x, y := int(math.Round(x0+dx*t)), int(math.Round(y0+dy*t))
		lo, hi := -(width-1)/2, width/2
		for ox := lo; ox <= hi; ox++ {
			for oy := lo; oy <= hi; oy++ {
				c.img.Set(x+ox, y+oy, col)
			}
		}
	}
}

// text draws s with its left edge at x and baseline at y; align 0 = left,
// 1 = centred, 2 = right. It returns the width drawn.
func (c canvas) text(face font.Face, s string, x, y int, align int, col color.Color) int {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face}
	w := d.MeasureString(s).Round()
	switch align {
	case 1:
		x -= w / 2
	case 2:
		x -= w
	}
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
	return w
}

// vtext draws s rotated 90° counter-clockwise, centred on (x, y).
func (c canvas) vtext(face font.Face, s string, x, y int, col color.Color) {
	d := font.Drawer{Face: face}
	w := d.MeasureString(s).Round()
	h := face.Metrics().Height.Ceil()
	tmp := newCanvas(w+2, h+2)
	tmp.text(face, s, 1, face.Metrics().Ascent.Ceil()+1, 0, col)
	for ty := 0; ty < h+2; ty++ {
		for tx := 0; tx < w+2; tx++ {
			p := tmp.img.RGBAAt(tx, ty)
			if p.R == 255 && p.G == 255 && p.B == 255 {
				continue
			}
			c.img.Set(x-h/2+ty, y+w/2-tx, p)
		}
	}
}

// niceTicks returns round tick values covering [lo, hi].
func niceTicks(lo, hi float64, want int) []float64 {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(want)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	if ticks[len(ticks)-1] < hi {
		ticks = append(ticks, ticks[len(ticks)-1]+step)
	}
	return ticks
}

func fmtTick(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6 && math.Mod(a, 1e5) == 0:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4 && math.Mod(a, 100) == 0:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// frame is a plot area with linear axes.
type frame struct {
	c                     canvas
	left, top, right, bot int // plot area in pixels
	ylo, yhi, xlo, xhi    float64
}

func (f frame) py(v float64) float64 {
	return float64(f.bot) - (v-f.ylo)/(f.yhi-f.ylo)*float64(f.bot-f.top)
}

func (f frame) px(v float64) float64 {
	return float64(f.left) + (v-f.xlo)/(f.xhi-f.xlo)*float64(f.right-f.left)
}

// axes draws the title, the y grid with labels and the y label.
func (f frame) axes(title, ylabel string, yticks []float64) {
	norm, big := faces()
	f.c.text(big, title, (f.left+f.right)/2, f.top-14, 1, black)
	for _, t := range yticks {
		y := int(math.Round(f.py(t)))
		f.c.rect(f.left, y, f.right, y+1, grey)
		f.c.text(norm, fmtTick(t), f.left-6, y+4, 2, dark)
	}
	f.c.rect(f.left, f.top, f.left+1, f.bot, dark)
	f.c.rect(f.left, f.bot, f.right, f.bot+1, dark)
	if ylabel != "" {
		f.c.vtext(norm, ylabel, 14, (f.top+f.bot)/2, dark)
	}
}

// legend draws coloured boxes and names in a row starting at (x, y).
func legend(c canvas, names []string, x, y int) {
	norm, _ := faces()
	for i, n := range names {
		c.rect(x, y-10, x+12, y+2, palette[i%len(palette)])
		x += 16
		x += c.text(norm, n, x, y, 0, black) + 18
	}
}

func dataRange(vals []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

// Image renders the bar chart.
func (bc BarChart) Image() *image.RGBA {
	w, h := bc.Width, bc.Height
	if w == 0 {
		w = max(900, 90+60*len(bc.Groups)*max(1, len(bc.Series))/2)
	}
	if h == 0 {
		h = 450
	}
	twoLine := false
	var all []float64
	for _, g := range bc.Groups {
		all = append(all, g.Values...)
		twoLine = twoLine || strings.Contains(g.Label, "\n")
	}
	if bc.RefLine != 0 {
		all = append(all, bc.RefLine)
	}
	lo, hi := dataRange(all)
	lo = math.Min(lo, 0)
	ticks := niceTicks(lo, hi*1.05, 6)
	bottom := h - 50
	if twoLine {
		bottom -= 14
	}
	f := frame{c: newCanvas(w, h), left: 70, top: 40, right: w - 20, bot: bottom,
		ylo: ticks[0], yhi: ticks[len(ticks)-1]}
	f.axes(bc.Title, bc.YLabel, ticks)
	norm, _ := faces()
	n := max(1, len(bc.Groups))
	gw := float64(f.right-f.left) / float64(n)
	nb := max(1, len(bc.Series))
	bw := gw * 0.8 / float64(nb)
	for gi, g := range bc.Groups {
		gx := float64(f.left) + gw*float64(gi) + gw*0.1
		for si, v := range g.Values {
			if si >= nb || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			x0 := int(math.Round(gx + bw*float64(si)))
			x1 := int(math.Round(gx+bw*float64(si+1))) - 1
			f.c.rect(x0, int(math.Round(f.py(v))), max(x1, x0+1), int(math.Round(f.py(0))), palette[si%len(palette)])
		}
		for li, line := range strings.Split(g.Label, "\n") {
			f.c.text(norm, line, int(gx+gw*0.4), f.bot+16+14*li, 1, black)
		}
	}
	if bc.RefLine != 0 {
		y := f.py(bc.RefLine)
		f.c.line(float64(f.left), y, float64(f.right), y, 1, black, 6)
	}
	legend(f.c, bc.Series, f.left, h-12)
	return f.c.img
}

// WritePNG renders the bar chart to path.
func (bc BarChart) WritePNG(path string) error { return WritePNGs(path, bc.Image()) }

// Image renders the line chart.
func (lc LineChart) Image() *image.RGBA {
	w, h := lc.Width, lc.Height
	if w == 0 {
		w = 1000
	}
	if h == 0 {
		h = 450
	}
	var xs, ys []float64
	for _, s := range lc.Series {
		xs = append(xs, s.X...)
		ys = append(ys, s.Y...)
	}
	xlo, xhi := dataRange(xs)
	ylo, yhi := dataRange(ys)
	ylo = math.Min(ylo, 0)
	if lc.YMin != nil {
		ylo = *lc.YMin
	}
	if !(xhi > xlo) {
		xhi = xlo + 1
	}
	yt := niceTicks(ylo, yhi, 6)
	f := frame{c: newCanvas(w, h), left: 70, top: 40, right: w - 20, bot: h - 64,
		ylo: yt[0], yhi: yt[len(yt)-1], xlo: xlo, xhi: xhi}
	f.axes(lc.Title, lc.YLabel, yt)
	norm, _ := faces()
	for _, t := range niceTicks(xlo, xhi, 8) {
		if t < xlo-1e-9 || t > xhi+1e-9 {
			continue
		}
		x := int(math.Round(f.px(t)))
		f.c.rect(x, f.bot, x+1, f.bot+5, dark)
		f.c.text(norm, fmtTick(t), x, f.bot+18, 1, dark)
	}
	if lc.XLabel != "" {
		f.c.text(norm, lc.XLabel, (f.left+f.right)/2, f.bot+34, 1, dark)
	}
	var names []string
	for si, s := range lc.Series {
		names = append(names, s.Name)
		col := palette[si%len(palette)]
		for i := 1; i < len(s.X) && i < len(s.Y); i++ {
			f.c.line(f.px(s.X[i-1]), f.py(s.Y[i-1]), f.px(s.X[i]), f.py(s.Y[i]), 2, col, 0)
		}
		if len(s.X) == 1 && len(s.Y) == 1 {
			f.c.rect(int(f.px(s.X[0]))-2, int(f.py(s.Y[0]))-2, int(f.px(s.X[0]))+3, int(f.py(s.Y[0]))+3, col)
		}
	}
	legend(f.c, names, f.left, h-10)
	return f.c.img
}

// WritePNG renders the line chart to path.
func (lc LineChart) WritePNG(path string) error { return WritePNGs(path, lc.Image()) }

// WritePNGs writes the images stacked top to bottom as one PNG.
func WritePNGs(path string, imgs ...image.Image) error {
	if len(imgs) == 0 {
		return fmt.Errorf("no chart to write")
	}
	w, h := 0, 0
	for _, im := range imgs {
		w = max(w, im.Bounds().Dx())
		h += im.Bounds().Dy()
	}
	out := newCanvas(w, h)
	y := 0
	for _, im := range imgs {
		b := im.Bounds()
		draw.Draw(out.img, image.Rect(0, y, b.Dx(), y+b.Dy()), im, b.Min, draw.Src)
		y += b.Dy()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, out.img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shortTest turns a redis-benchmark test title into a chart label:
// "LRANGE_100 (first 100 elements)" -> "lrange_100",
// "LPUSH (needed to benchmark LRANGE)" -> "lpush_lr".
func shortTest(t string) string {
	name, rest, _ := strings.Cut(t, " (")
	name = strings.ToLower(name)
	if strings.Contains(rest, "needed") {
		name += "_lr"
	}
	return name
}

func pinLabel(pinned bool) string {
	if pinned {
		return "pinned"
	}
	return "unpinned"
}

// ratioChart draws kvd/redis throughput per test, one series per
// (report, pipeline): "P=1 unpinned", "P=16 pinned", ...
func ratioChart(reps []report) BarChart {
	bc := BarChart{Title: "kvd / redis-server throughput (median req/s ratio per cell)", YLabel: "kvd / redis", RefLine: 1}
	type sk struct {
		rep, p int
	}
	var series []sk
	groupIdx := map[string]int{}
	vals := map[string]map[sk]float64{}
	for ri, rep := range reps {
		seen := map[int]bool{}
		for _, s := range rep.Summary {
			k := sk{ri, s.Pipeline}
			if !seen[s.Pipeline] {
				seen[s.Pipeline] = true
				series = append(series, k)
				name := fmt.Sprintf("P=%d %s", s.Pipeline, pinLabel(rep.Pinned))
				if g, ok := rep.Geomeans["P="+strconv.Itoa(s.Pipeline)]; ok {
					name += fmt.Sprintf(" (geomean %.2f)", g)
				}
				bc.Series = append(bc.Series, name)
			}
			t := shortTest(s.Test)
			if _, ok := groupIdx[t]; !ok {
				groupIdx[t] = len(bc.Groups)
				bc.Groups = append(bc.Groups, BarGroup{Label: t})
				vals[t] = map[sk]float64{}
			}
			if s.Ratio > 0 {
				vals[t][k] = s.Ratio
			}
		}
	}
	for gi := range bc.Groups {
		g := &bc.Groups[gi]
		for _, k := range series {
			v, ok := vals[g.Label][k]
			if !ok {
				v = math.NaN()
			}
			g.Values = append(g.Values, v)
		}
	}
	return bc
}

// latencyCharts draws p50 and p99 per test for kvd and redis, one panel per
// pipeline depth.
func latencyCharts(rep report) []image.Image {
	var pipes []int
	seen := map[int]bool{}
	for _, s := range rep.Summary {
		if !seen[s.Pipeline] {
			seen[s.Pipeline] = true
			pipes = append(pipes, s.Pipeline)
		}
	}
	var imgs []image.Image
	for _, p := range pipes {
		bc := BarChart{Title: fmt.Sprintf("latency per cell, P=%d, %s (ms, median of rounds)", p, pinLabel(rep.Pinned)),
			YLabel: "ms", Series: []string{"kvd p50", "redis p50", "kvd p99", "redis p99"}}
		for _, s := range rep.Summary {
			if s.Pipeline == p {
				bc.Groups = append(bc.Groups, BarGroup{Label: shortTest(s.Test),
					Values: []float64{s.KvdP50, s.RedisP50, s.KvdP99, s.RedisP99}})
			}
		}
		imgs = append(imgs, bc.Image())
	}
	return imgs
}

// writeCompareCharts writes base+"-ratio.png" and base+"-latency.png".
func writeCompareCharts(base string, rep report) ([]string, error) {
	ratio, lat := base+"-ratio.png", base+"-latency.png"
	if err := ratioChart([]report{rep}).WritePNG(ratio); err != nil {
		return nil, err
	}
	if err := WritePNGs(lat, latencyCharts(rep)...); err != nil {
		return nil, err
	}
	return []string{ratio, lat}, nil
}

// chartCmd redraws charts from saved compare results; several files (an
// unpinned and a pinned run, say) share one ratio chart.
//
//	go run ./bench chart [-out bench/results/latest] result.json...
func chartCmd(argv []string) error {
	fs := flag.NewFlagSet("chart", flag.ExitOnError)
	out := fs.String("out", "bench/results/latest", "output path prefix")
	fs.Parse(argv)
	if fs.NArg() == 0 {
		return fmt.Errorf("chart: give one or more compare-*.json files")
	}
	var reps []report
	var lats []image.Image
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		reps = append(reps, rep)
		lats = append(lats, latencyCharts(rep)...)
	}
	if err := ratioChart(reps).WritePNG(*out + "-ratio.png"); err != nil {
		return err
	}
	if err := WritePNGs(*out+"-latency.png", lats...); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", *out+"-ratio.png", *out+"-latency.png")
	return nil
}
