package transcribe

import "math"

// speechRegion is a stretch of a channel with speech in it, in samples.
type speechRegion struct{ start, end int }

// speechRegions finds where a channel holds speech, by energy: 20 ms frames whose RMS is
// over a threshold (a tenth of the loud frames' level, at least -50 dBFS), gaps under
// 600 ms bridged, regions cut at maxLen samples (in-process models such as Whisper take at
// most 30 s at once). The in-process engine decodes each region on its own, which gives
// the segments their times.
func speechRegions(samples []int16, rate, maxLen int) []speechRegion {
	frame := rate / 50
	if frame <= 0 || len(samples) < frame {
		return nil
	}
	n := len(samples) / frame
	rms := make([]float64, n)
	peak := 0.0
	for i := range rms {
		var sum float64
		for _, s := range samples[i*frame : (i+1)*frame] {
			sum += float64(s) * float64(s)
		}
		rms[i] = math.Sqrt(sum / float64(frame))
		peak = max(peak, rms[i])
	}
	threshold := max(peak/10, 32768*math.Pow(10, -50.0/20))
	var out []speechRegion
	gap := 30 // frames of 20 ms: 600 ms
	cur, quiet := -1, 0
	for i, v := range rms {
		switch {
		case v >= threshold && cur < 0:
			cur, quiet = i, 0
		case v >= threshold:
			quiet = 0
		case cur >= 0:
			quiet++
			if quiet > gap {
				out = append(out, speechRegion{cur * frame, (i - quiet + 1) * frame})
				cur = -1
			}
		}
	}
	if cur >= 0 {
		out = append(out, speechRegion{cur * frame, (n - quiet) * frame})
	}
	// Cut what is too long; pad each side by 100 ms so word edges are not clipped.
	var cut []speechRegion
	pad := rate / 10
	for _, r := range out {
		r.start, r.end = max(r.start-pad, 0), min(r.end+pad, len(samples))
		for r.end-r.start > maxLen {
			cut = append(cut, speechRegion{r.start, r.start + maxLen})
			r.start += maxLen
		}
		cut = append(cut, r)
	}
	return cut
}
