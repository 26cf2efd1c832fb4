package bridge

import (
	"bytes"
	"errors"
	"io"
)

// ForEachLineBuffer reads r in buffers of about size bytes of whole lines,
// the unit Writer.AddJSONLines takes, and calls fn with each in order (a
// line longer than the buffer gets a buffer of its own; the last buffer
// may end without a newline). Together the buffers are exactly r's bytes.
// The buffer passed to fn is reused: fn must not keep it.
func ForEachLineBuffer(r io.Reader, size int, fn func(lines []byte) error) error {
	buf := make([]byte, max(size, 1))
	have := 0
	for {
		n, err := io.ReadFull(r, buf[have:])
		have += n
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		cut := have
		if !eof {
			cut = bytes.LastIndexByte(buf[:have], '\n') + 1
			if cut == 0 { // one line longer than the buffer
				buf = append(buf, make([]byte, len(buf))...)
				continue
			}
		}
		if cut > 0 {
			if err := fn(buf[:cut]); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
		have = copy(buf, buf[cut:have])
	}
}
