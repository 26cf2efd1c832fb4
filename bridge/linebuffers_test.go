package bridge

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestForEachLineBuffer(t *testing.T) {
	long := strings.Repeat("x", 50)
	for _, in := range []string{"", "a\n", "a\nb", "a\nb\nc\n", long + "\nb\n" + long, "\n\n\n", "ab\ncd\nef\ngh\n"} {
		var got [][]byte
		err := ForEachLineBuffer(strings.NewReader(in), 8, func(lines []byte) error {
			got = append(got, bytes.Clone(lines))
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, in, string(bytes.Join(got, nil)), "the buffers are the input, in order")
		for i, b := range got {
			require.NotEmpty(t, b)
			if i < len(got)-1 {
				require.Equal(t, byte('\n'), b[len(b)-1], "%q: buffer %d ends inside a line", in, i)
			}
		}
	}
	stop := errors.New("stop")
	require.ErrorIs(t, ForEachLineBuffer(strings.NewReader("a\nb\n"), 2, func([]byte) error { return stop }), stop)
}
