package media

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/thesyncim/gopus"
	"github.com/thesyncim/gopus/container/ogg"
)

// Opus encoding of a recording: an Ogg Opus file (RFC 7845), which browsers and most players
// read, by gopus (github.com/thesyncim/gopus, pure Go). Opus takes 8 kHz input as it is
// (narrowband), so no resampling; the two channels are coded as one coupled stereo stream.
const OpusBitrate = 24000 // bit/s for both channels: a tenth of the 8 kHz 16-bit stereo WAV

// opusFrame is one 20 ms Opus frame at 8 kHz (per channel).
const opusFrame = SampleRate / 50

// EncodeOpus reads 16-bit little-endian stereo PCM at 8 kHz (a recording's WAV data, after
// its header) from src until EOF and writes it to dst as stereo Ogg Opus, 20 ms at a time:
// memory stays at one frame whatever the length. A last partial frame is padded with silence.
func EncodeOpus(dst io.Writer, src io.Reader) error {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: SampleRate, Channels: 2, Application: gopus.ApplicationVoIP})
	if err != nil {
		return err
	}
	if err := enc.SetBitrate(OpusBitrate); err != nil {
		return err
	}
	out, err := ogg.NewWriter(dst, SampleRate, 2)
	if err != nil {
		return err
	}
	in := make([]byte, opusFrame*4)
	pcm := make([]int16, 2*opusFrame)
	packet := make([]byte, 1500)
	for {
		n, rerr := io.ReadFull(src, in)
		if n >= 4 {
			for i := range pcm {
				pcm[i] = 0
				if 2*i+2 <= n {
					pcm[i] = int16(binary.LittleEndian.Uint16(in[2*i:]))
				}
			}
			size, err := enc.EncodeInt16(pcm, packet)
			if err != nil {
				return err
			}
			if err := out.WritePacket(packet[:size], 48000/50); err != nil { // granules count at 48 kHz
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return out.Close()
		}
		if rerr != nil {
			return rerr
		}
	}
}
