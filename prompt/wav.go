package prompt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"switchboard"
	"switchboard/media"
)

// EncodeWAV is the stored form of a prompt: a WAV of 8 kHz mono 16-bit PCM (44-byte header).
func EncodeWAV(pcm []int16) []byte {
	data := len(pcm) * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], media.SampleRate)
	binary.LittleEndian.PutUint32(b[28:], media.SampleRate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// DecodeWAV reads a WAV (a stored prompt, or any WAV media.ReadWAV takes) as 8 kHz PCM.
func DecodeWAV(b []byte) ([]int16, error) {
	pcm, err := media.ReadWAV(bytes.NewReader(b), switchboard.MaxPromptDuration)
	if err != nil {
		return nil, fmt.Errorf("prompt: stored audio: %w", err)
	}
	return pcm, nil
}

// fixStreamedWAV sets the RIFF and data chunk sizes of a WAV written to a pipe (espeak-ng
// --stdout cannot seek back, so it writes placeholders) to what the bytes hold.
func fixStreamedWAV(b []byte) error {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return errors.New("not a RIFF WAVE stream")
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if id == "data" {
			binary.LittleEndian.PutUint32(b[off+4:], uint32(len(b)-off-8))
			return nil
		}
		off += 8 + size + size%2
	}
	return errors.New("no data chunk")
}
