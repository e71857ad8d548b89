// Command recordingformats measures what a recording download costs in each format the API
// offers: a stored stereo 8 kHz WAV (made here: -minutes of two-party audio) is read from
// disk and sent to nowhere as the WAV itself (the baseline: what GET …/audio does), as MP3
// (media.EncodeMP3) and as Ogg Opus (media.EncodeOpus), in the same run. It reports the
// process's CPU per minute of audio, how many times faster than real time that is, the
// output size, and the CPU as a ratio to the WAV's.
//
//	go run ./bench/recordingformats -minutes 10 -write docs/benchmarks.md
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"switchboard/bench/internal/benchdoc"
	"switchboard/bench/internal/benchpbx"
	"switchboard/media"
)

type format struct {
	name   string
	encode func(dst io.Writer, src io.Reader) error
}

type result struct {
	name  string
	cpu   time.Duration // per run
	bytes int64
}

func main() {
	minutes := flag.Int("minutes", 10, "minutes of audio in the recording")
	runs := flag.Int("runs", 3, "downloads of each format (the CPU is their mean)")
	write := flag.String("write", "", "markdown file whose recording-formats section gets the results")
	flag.Parse()
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	dir, err := os.MkdirTemp("", "recordingformats")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "call.wav")
	if err := writeRecording(path, *minutes); err != nil {
		fail(err)
	}
	formats := []format{
		{"WAV (baseline)", func(dst io.Writer, src io.Reader) error { _, err := io.Copy(dst, src); return err }},
		{"MP3", media.EncodeMP3},
		{"Opus", media.EncodeOpus},
	}
	var results []result
	for _, f := range formats {
		r := result{name: f.name}
		for range *runs {
			cpu, n, err := download(path, f.encode)
			if err != nil {
				fail(fmt.Errorf("%s: %w", f.name, err))
			}
			r.cpu += cpu
			r.bytes = n
		}
		r.cpu /= time.Duration(*runs)
		results = append(results, r)
		fmt.Printf("%-15s %8.3f CPU s for %d min of audio, %d bytes\n", f.name, r.cpu.Seconds(), *minutes, r.bytes)
	}
	if *write != "" {
		if err := writeMarkdown(*write, results, *minutes, *runs, load); err != nil {
			fail(err)
		}
	}
}

// writeRecording writes minutes of a two-party call as a recording is stored: the left
// channel a voice-like signal (a 120–180 Hz fundamental with harmonics, in syllables and
// pauses), the right channel another voice answering in the pauses, with a little noise.
func writeRecording(path string, minutes int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := media.NewWAVWriter(f, 2, media.SampleRate)
	if err := w.WriteHeader(); err != nil {
		return err
	}
	frames := make([]int16, 2*media.SampleRate)
	seed := uint32(1)
	for s := 0; s < minutes*60; s++ {
		for i := 0; i < media.SampleRate; i++ {
			t := float64(s) + float64(i)/media.SampleRate
			seed = seed*1664525 + 1013904223
			noise := float64(int32(seed)>>20) / 8
			frames[2*i] = int16(voice(t, 150, 0) + noise)
			frames[2*i+1] = int16(voice(t, 120, 1.5) + noise)
		}
		if err := w.WriteFrames(frames); err != nil {
			return err
		}
	}
	if err := w.Finish(); err != nil {
		return err
	}
	return f.Close()
}

// voice is a talker at pitch Hz who speaks 1.5 s of every 3 s from offset on, in syllables.
func voice(t, pitch, offset float64) float64 {
	if math.Mod(t+offset, 3) >= 1.5 {
		return 0
	}
	syllable := math.Abs(math.Sin(math.Pi * 4 * t))
	f0 := pitch * (1 + 0.1*math.Sin(2*math.Pi*0.7*t))
	var v float64
	for h := 1.0; h <= 12; h++ {
		v += math.Sin(2*math.Pi*f0*h*t) / h
	}
	return 4000 * syllable * v
}

// download reads the recording as the API does (after its header) into encode and counts
// what comes out; it returns the process CPU it took.
func download(path string, encode func(io.Writer, io.Reader) error) (time.Duration, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if _, err := f.Seek(media.WAVHeaderSize, io.SeekStart); err != nil {
		return 0, 0, err
	}
	var out counter
	start := benchpbx.CPUTime()
	err = encode(&out, f)
	return benchpbx.CPUTime() - start, int64(out), err
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

const (
	startMarker = "<!-- recording-formats:start -->"
	endMarker   = "<!-- recording-formats:end -->"
)

func writeMarkdown(path string, results []result, minutes, runs int, load string) error {
	var b strings.Builder
	b.WriteString(startMarker + "\n## Recording downloads: WAV, MP3, Opus (`media.EncodeMP3`, `media.EncodeOpus`)\n\n")
	fmt.Fprintf(&b, "Run %s on a %d-core machine (%s/%s), load average %s at the start:\n\n", time.Now().UTC().Format("2006-01-02"),
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, load)
	fmt.Fprintf(&b, "    go run ./bench/recordingformats -minutes %d -runs %d -write docs/benchmarks.md\n\n", minutes, runs)
	fmt.Fprintf(&b, "A %d-minute stereo 8 kHz recording (two voice-like talkers taking turns) is read from disk as the\n", minutes)
	b.WriteString("download route reads it and written to nowhere: as the WAV itself (the baseline, in the same run),\n")
	b.WriteString("encoded to MP3 (MPEG-2, 16 kHz, 48 kbit/s, shine-mp3) and to Ogg Opus (8 kHz, 24 kbit/s, gopus).\n")
	fmt.Fprintf(&b, "CPU is the process's, the mean of %d downloads; the machine was shared with other work.\n\n", runs)
	b.WriteString("| format | bytes | CPU s per audio minute | × real time (one core) | **CPU vs the WAV** |\n|---|---:|---:|---:|---:|\n")
	base := results[0].cpu.Seconds()
	for _, r := range results {
		perMin := r.cpu.Seconds() / float64(minutes)
		ratio := "1"
		if base > 0 {
			ratio = fmt.Sprintf("%.0f×", r.cpu.Seconds()/base)
		}
		fmt.Fprintf(&b, "| %s | %d | %.4f | %.0f | **%s** |\n", r.name, r.bytes, perMin, 60/math.Max(perMin, 1e-9), ratio)
	}
	hour := func(r result) float64 { return 60 * r.cpu.Seconds() / float64(minutes) }
	fmt.Fprintf(&b, "\nSo a one-hour call costs about %.0f s of one core to download as MP3 and %.0f s as Opus (the\n",
		hour(results[1]), hour(results[2]))
	b.WriteString("bytes flow while it encodes); the WAV costs almost nothing beyond the disk read. The Opus file is\n")
	b.WriteString("larger than 24 kbit/s alone: gopus's Ogg writer puts each 20 ms packet on its own page (28 bytes\n")
	b.WriteString("of framing each).\n\n" + endMarker + "\n")
	return benchdoc.WriteSection(path, startMarker, endMarker, b.String())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "recordingformats:", err)
	os.Exit(1)
}
