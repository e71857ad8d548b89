package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Streaming WAV files: a recording is written while the call runs, so its header is written
// first with sizes that are not known yet and patched when the file is complete (or, after a
// crash, by RepairWAV from the file's length).

// WAVHeaderSize is the size of the canonical header WAVWriter writes: RIFF, a 16-byte fmt
// chunk of PCM, and the data chunk's header. The audio starts at this offset.
const WAVHeaderSize = 44

// wavUnknownSize fills the size fields of a file being written: the largest sizes a RIFF
// file can have, which players that read a growing file (ffmpeg, sox) take as "until the
// end of the file".
const wavUnknownSize = 0xFFFFFFFF

// ErrNotWAV is returned (wrapped) by RepairWAV for a file that does not start with the
// header WAVWriter writes.
var ErrNotWAV = errors.New("media: not a WAV file written by WAVWriter")

// WAVHeader returns the 44-byte header of 16-bit PCM at rate Hz with channels channels and
// dataBytes bytes of audio (wavUnknownSize-style placeholders when dataBytes < 0).
func WAVHeader(channels, rate int, dataBytes int64) []byte {
	h := make([]byte, WAVHeaderSize)
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2)) // bytes a second
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))      // bytes a frame
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	putWAVSizes(h, dataBytes)
	return h
}

// putWAVSizes sets the RIFF and data sizes of header h for dataBytes of audio.
func putWAVSizes(h []byte, dataBytes int64) {
	riff, data := uint32(wavUnknownSize), uint32(wavUnknownSize)
	if dataBytes >= 0 && dataBytes <= wavUnknownSize-(WAVHeaderSize-8) {
		riff, data = uint32(dataBytes+WAVHeaderSize-8), uint32(dataBytes)
	}
	binary.LittleEndian.PutUint32(h[4:], riff)
	binary.LittleEndian.PutUint32(h[40:], data)
}

// PatchWAVSizes writes the sizes of dataBytes of audio into the header of a WAV file that
// WAVWriter wrote (at offset 0 of w).
func PatchWAVSizes(w io.WriterAt, dataBytes int64) error {
	h := make([]byte, WAVHeaderSize)
	putWAVSizes(h, dataBytes)
	if _, err := w.WriteAt(h[4:8], 4); err != nil {
		return err
	}
	_, err := w.WriteAt(h[40:44], 40)
	return err
}

// WAVWriter writes a 16-bit PCM WAV file as a stream: the header (with placeholder sizes)
// on the first write, then interleaved frames. It buffers nothing itself: callers that
// write small frames wrap w in a bufio.Writer.
type WAVWriter struct {
	w        io.Writer
	channels int
	rate     int
	data     int64 // audio bytes written
	started  bool
	buf      []byte
	err      error
}

// NewWAVWriter returns a writer of channels-channel 16-bit PCM at rate Hz to w.
func NewWAVWriter(w io.Writer, channels, rate int) *WAVWriter {
	return &WAVWriter{w: w, channels: channels, rate: rate}
}

// WriteHeader writes the header now (WriteFrames does it before the first frames): a
// recording that has no audio yet is still a valid, empty WAV file.
func (ww *WAVWriter) WriteHeader() error {
	if ww.err != nil || ww.started {
		return ww.err
	}
	ww.started = true
	if _, err := ww.w.Write(WAVHeader(ww.channels, ww.rate, -1)); err != nil {
		ww.err = err
	}
	return ww.err
}

// WriteFrames writes interleaved samples (len a multiple of the channel count: one sample
// of each channel per frame) as little-endian 16-bit. After an error every call returns it.
func (ww *WAVWriter) WriteFrames(interleaved []int16) error {
	if err := ww.WriteHeader(); err != nil {
		return err
	}
	if len(interleaved)%ww.channels != 0 {
		return fmt.Errorf("media: %d samples are not whole frames of %d channels", len(interleaved), ww.channels)
	}
	need := 2 * len(interleaved)
	if cap(ww.buf) < need {
		ww.buf = make([]byte, need)
	}
	b := ww.buf[:need]
	for i, s := range interleaved {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return ww.writeData(b)
}

// writeData writes audio bytes already in the file's format (whole frames); the header
// must have been written.
func (ww *WAVWriter) writeData(b []byte) error {
	if ww.err != nil {
		return ww.err
	}
	n, err := ww.w.Write(b)
	ww.data += int64(n)
	if err != nil {
		ww.err = err
	}
	return ww.err
}

// DataBytes is the number of audio bytes written so far.
func (ww *WAVWriter) DataBytes() int64 { return ww.data }

// Frames is the length of the audio written so far, in samples per channel.
func (ww *WAVWriter) Frames() int64 { return ww.data / int64(2*ww.channels) }

// Finish patches the header's sizes when the underlying writer can write at an offset (a
// file); otherwise the reader of the stream relies on the placeholders or RepairWAV. It
// does not close the underlying writer.
func (ww *WAVWriter) Finish() error {
	if err := ww.WriteHeader(); err != nil {
		return err
	}
	if wa, ok := ww.w.(io.WriterAt); ok {
		return PatchWAVSizes(wa, ww.data)
	}
	return nil
}

// RepairWAV fixes the header of a WAV file WAVWriter was writing when the process stopped:
// see RepairWAVFile.
func RepairWAV(path string) (dataBytes int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return RepairWAVFile(f)
}

// RepairWAVFile sets the sizes of the WAV file f (written by WAVWriter, perhaps by a process
// that stopped) from its length, cutting a trailing partial frame off, and syncs it. It
// returns the number of audio bytes in the file. A file shorter than a header, or whose
// header is not WAVWriter's (RIFF/WAVE, 16-bit PCM), is ErrNotWAV and left alone; one over
// the 4 GiB a WAV header can state is an error too.
func RepairWAVFile(f *os.File) (dataBytes int64, err error) {
	h := make([]byte, WAVHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return 0, fmt.Errorf("%w: %s: shorter than a header", ErrNotWAV, f.Name())
	}
	channels := int(binary.LittleEndian.Uint16(h[22:]))
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[12:16]) != "fmt " ||
		string(h[36:40]) != "data" || binary.LittleEndian.Uint16(h[20:]) != wavPCM ||
		binary.LittleEndian.Uint16(h[34:]) != 16 || channels < 1 {
		return 0, fmt.Errorf("%w: %s", ErrNotWAV, f.Name())
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	frame := int64(2 * channels)
	dataBytes = (st.Size() - WAVHeaderSize) / frame * frame
	if dataBytes > 0xFFFFFFFF-(WAVHeaderSize-8) {
		return 0, fmt.Errorf("%s: WAV file over 4 GiB", f.Name())
	}
	if st.Size() != WAVHeaderSize+dataBytes {
		if err := f.Truncate(WAVHeaderSize + dataBytes); err != nil {
			return 0, err
		}
	}
	if err := PatchWAVSizes(f, dataBytes); err != nil {
		return 0, err
	}
	return dataBytes, f.Sync()
}
