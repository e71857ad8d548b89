package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The recorder (media.WAVWriter) writes a canonical 44-byte header with placeholder sizes
// first and audio after it. The sizes are written here from the file's length when the
// recording is committed, and by Repair after a crash, so neither depends on the process
// that wrote the audio having lived to the end.

// wavHeaderSize is the canonical header: RIFF, a 16-byte PCM fmt chunk, the data header.
const wavHeaderSize = 44

// errNoAudio: the file holds no audio frame (a header at most).
var errNoAudio = errors.New("no audio")

// fixWAV writes the RIFF and data sizes of the canonical WAV file f from its length, cutting
// a trailing partial frame (a write the crash interrupted). It returns the file's size and
// the audio's length in bytes.
func fixWAV(f *os.File) (size, audio int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	h := make([]byte, wavHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return st.Size(), 0, errNoAudio
		}
		return 0, 0, err
	}
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[12:16]) != "fmt " ||
		binary.LittleEndian.Uint32(h[16:]) != 16 || string(h[36:40]) != "data" {
		return 0, 0, fmt.Errorf("not a canonical WAV file")
	}
	frame := int64(binary.LittleEndian.Uint16(h[32:])) // block align: bytes per frame
	if frame <= 0 {
		return 0, 0, fmt.Errorf("WAV header has no frame size")
	}
	audio = st.Size() - wavHeaderSize
	audio -= audio % frame
	if audio <= 0 {
		return st.Size(), 0, errNoAudio
	}
	if audio > 0xFFFFFFFF-(wavHeaderSize-8) {
		return 0, 0, fmt.Errorf("WAV file over 4 GiB")
	}
	if err := f.Truncate(wavHeaderSize + audio); err != nil {
		return 0, 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(audio+wavHeaderSize-8))
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return 0, 0, err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(audio))
	if _, err := f.WriteAt(b[:], 40); err != nil {
		return 0, 0, err
	}
	return wavHeaderSize + audio, audio, f.Sync()
}

// wavDurationMs is how long audio bytes of the header's format last.
func wavDurationMs(f *os.File, audio int64) int64 {
	h := make([]byte, wavHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return 0
	}
	perSec := int64(binary.LittleEndian.Uint32(h[28:])) // bytes a second
	if perSec <= 0 {
		return 0
	}
	return audio * 1000 / perSec
}
