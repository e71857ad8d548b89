package transcribe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errBadRecording: the recording is not the two-channel (or one-channel) 16-bit PCM WAV
// the recorder writes. Retrying does not change a file, so it fails the job.
var errBadRecording = errors.New("the recording is not a 16-bit PCM WAV")

// splitChannels reads a recording's WAV — 16-bit PCM, one or two channels (left = the
// caller, right = the other party) — into one sample slice per channel. A header whose
// data size is a placeholder (a recording repaired after a crash whose header was not
// patched) is read to the end of the file.
func splitChannels(data []byte) (channels [][]int16, rate int, err error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%w: no RIFF WAVE header", errBadRecording)
	}
	var format, nch, bits uint16
	pos := 12
	for pos+8 <= len(data) {
		id, size32 := string(data[pos:pos+4]), binary.LittleEndian.Uint32(data[pos+4:pos+8])
		size := int(size32)
		body := pos + 8
		switch id {
		case "fmt ":
			if size < 16 || body+16 > len(data) {
				return nil, 0, fmt.Errorf("%w: short fmt chunk", errBadRecording)
			}
			format = binary.LittleEndian.Uint16(data[body:])
			nch = binary.LittleEndian.Uint16(data[body+2:])
			rate = int(binary.LittleEndian.Uint32(data[body+4:]))
			bits = binary.LittleEndian.Uint16(data[body+14:])
		case "data":
			if format != 1 || bits != 16 || nch < 1 || nch > 2 || rate < 4000 || rate > 48000 {
				return nil, 0, fmt.Errorf("%w: format %d, %d bits, %d channels, %d Hz", errBadRecording, format, bits, nch, rate)
			}
			end := body + size
			if size32 == 0 || size32 == 0xFFFFFFFF || end > len(data) || end < body {
				end = len(data)
			}
			pcm := data[body:end]
			frames := len(pcm) / (2 * int(nch))
			channels = make([][]int16, nch)
			for c := range channels {
				channels[c] = make([]int16, frames)
			}
			for i := 0; i < frames; i++ {
				for c := 0; c < int(nch); c++ {
					channels[c][i] = int16(binary.LittleEndian.Uint16(pcm[(i*int(nch)+c)*2:]))
				}
			}
			return channels, rate, nil
		}
		pos = body + size + size&1
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", errBadRecording)
}

// MonoWAV encodes samples as a mono 16-bit PCM WAV: what the engines are sent.
func MonoWAV(samples []int16, rate int) []byte {
	var b bytes.Buffer
	writeMonoWAV(&b, samples, rate)
	return b.Bytes()
}

func writeMonoWAV(w io.Writer, samples []int16, rate int) {
	n := uint32(len(samples) * 2)
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], 36+n)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], n)
	_, _ = w.Write(hdr)
	body := make([]byte, n)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(body[i*2:], uint16(s))
	}
	_, _ = w.Write(body)
}

// silent reports whether a channel holds no speech worth sending: every sample below a
// low threshold (a paused or muted side), so the engine is not paid to hear nothing.
func silent(samples []int16) bool {
	for _, s := range samples {
		if s > 300 || s < -300 {
			return false
		}
	}
	return true
}
