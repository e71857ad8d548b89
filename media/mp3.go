package media

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/braheezy/shine-mp3/pkg/mp3"
)

// MP3 encoding of a recording, for players and CRMs that want a small file.
//
// shine (github.com/braheezy/shine-mp3, pure Go) encodes MPEG-1 (32–48 kHz), MPEG-2
// (16–24 kHz) and MPEG-2.5 (8–12 kHz). MPEG-2.5 would keep the call's 8 kHz, but it is not
// part of the MP3 standard and decoders skip it (go-mp3 among them: "MPEG version 2.5 is not
// supported"), so the audio is upsampled to 16 kHz and encoded as MPEG-2 Layer III, which
// every player reads. The band above 4 kHz stays empty: the call never carried it.
const (
	MP3SampleRate = 16000 // Hz, MPEG-2 Layer III
	MP3Bitrate    = 48    // kbit/s for both channels: a fifth of the 8 kHz 16-bit stereo WAV
)

// mp3SourceFrames is how many 8 kHz stereo frames make one MPEG-2 frame (576 samples per
// channel at 16 kHz).
const mp3SourceFrames = 576 / (MP3SampleRate / SampleRate)

// EncodeMP3 reads 16-bit little-endian stereo PCM at 8 kHz (a recording's WAV data, after
// its header) from src until EOF and writes it to dst as a stereo MP3 (MP3SampleRate,
// MP3Bitrate), frame by frame: memory stays at one frame whatever the length. The channels
// stay apart (stereo mode, not joint or mono). A last partial frame is padded with silence.
func EncodeMP3(dst io.Writer, src io.Reader) error {
	enc := mp3.NewEncoder(MP3SampleRate, 2)
	setMP3Bitrate(enc, MP3Bitrate)
	in := make([]byte, mp3SourceFrames*4)
	out := make([]int16, 2*2*mp3SourceFrames) // interleaved stereo at twice the rate
	var prevL, prevR int16
	for {
		n, err := io.ReadFull(src, in)
		if n >= 4 {
			frames := n / 4
			for i := range frames {
				l := int16(binary.LittleEndian.Uint16(in[4*i:]))
				r := int16(binary.LittleEndian.Uint16(in[4*i+2:]))
				// Linear interpolation: the sample between two 8 kHz samples is their mean.
				out[4*i], out[4*i+1] = int16((int32(prevL)+int32(l))/2), int16((int32(prevR)+int32(r))/2)
				out[4*i+2], out[4*i+3] = l, r
				prevL, prevR = l, r
			}
			clear(out[4*frames:])
			data, written := enc.EncodeBufferInterleaved(out)
			if _, werr := dst.Write(data[:written]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// setMP3Bitrate sets the encoder's bitrate. shine's NewEncoder fixes 128 kbit/s, the most
// MPEG-2 allows, and derives the frame size from it there; this repeats that derivation for
// another bitrate (kbps must be an MPEG-2 bitrate: 8–160 in its steps).
func setMP3Bitrate(enc *mp3.Encoder, kbps int64) {
	mpeg2 := []int64{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	for i, b := range mpeg2 {
		if b == kbps {
			enc.Mpeg.BitrateIndex = int64(i)
		}
	}
	enc.Mpeg.Bitrate = kbps
	slots := float64(enc.Mpeg.GranulesPerFrame) * mp3.GRANULE_SIZE / float64(enc.Wave.SampleRate) *
		float64(kbps) * 1000 / float64(enc.Mpeg.BitsPerSlot)
	enc.Mpeg.WholeSlotsPerFrame = int64(slots)
	enc.Mpeg.FracSlotsPerFrame = slots - float64(enc.Mpeg.WholeSlotsPerFrame)
	enc.Mpeg.SlotLag = -enc.Mpeg.FracSlotsPerFrame
}
