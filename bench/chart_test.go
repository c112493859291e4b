package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchCharts draws a line chart and a grouped bar chart and checks
// that each PNG decodes at the requested size and is not blank.
func TestBenchCharts(t *testing.T) {
	dir := t.TempDir()
	var s1, s2 Series
	s1.Name, s2.Name = "worker 0", "worker 1"
	for i := 0; i < 60; i++ {
		x := float64(i) / 2
		s1.X, s1.Y = append(s1.X, x), append(s1.Y, 50000+20000*math.Sin(x/3))
		s2.X, s2.Y = append(s2.X, x), append(s2.Y, 40000+10000*math.Cos(x/4))
	}
	line := filepath.Join(dir, "line.png")
	if err := (LineChart{Title: "ops/s per worker", XLabel: "seconds", YLabel: "ops/s", Series: []Series{s1, s2}, Width: 800, Height: 400}).WritePNG(line); err != nil {
		t.Fatal(err)
	}
	bars := filepath.Join(dir, "bars.png")
	bc := BarChart{Title: "ratio", YLabel: "kvd / redis", Series: []string{"P=1", "P=16"}, RefLine: 1,
		Groups: []BarGroup{{Label: "set", Values: []float64{0.9, 1.1}}, {Label: "get\nP", Values: []float64{math.NaN(), 0.8}}}}
	if err := bc.WritePNG(bars); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		w, h int
	}{{line, 800, 400}, {bars, 900, 450}} {
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s: %dx%d, want %dx%d", c.path, b.Dx(), b.Dy(), c.w, c.h)
		}
		colored := 0
		for y := 0; y < c.h; y += 2 {
			for x := 0; x < c.w; x += 2 {
				r, g, b, _ := img.At(x, y).RGBA()
				if !(r == g && g == b) {
					colored++
				}
			}
		}
		if colored < 100 {
			t.Errorf("%s: only %d coloured pixels", c.path, colored)
		}
	}
}
