package indexer

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPayloadReadsVersion1(t *testing.T) {
	v1 := `{"v":1,"token":4,"applied":{"j1":7,"j2":9}}`
	p, err := ParsePayload(&v1)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), p.Token)
	assert.Equal(t, Mark{Seq: 7}, p.Applied["j1"])
	assert.Equal(t, Mark{Seq: 9}, p.Applied["j2"])

	n := p.next(5, "g", "j1", 12)
	back := n.Encode()
	q, err := ParsePayload(&back)
	require.NoError(t, err)
	assert.Equal(t, payloadVersion, q.Version)
	assert.Equal(t, "g", q.Grant)
	assert.Equal(t, Mark{Seq: 12, Token: 5}, q.Applied["j1"])
	assert.Equal(t, Mark{Seq: 9}, q.Applied["j2"])

	future := `{"v":3,"token":1}`
	_, err = ParsePayload(&future)
	assert.ErrorContains(t, err, "newer than this build")
}

// The applied map is capped: the journals whose last commit is oldest go
// first, and the highest evicted token is remembered.
func TestPayloadAppliedCapped(t *testing.T) {
	var p Payload
	for i := range maxAppliedJournals + 5 {
		p = p.next(uint64(i+1), "g", fmt.Sprintf("j%04d", i), 1)
	}
	assert.Len(t, p.Applied, maxAppliedJournals)
	assert.Equal(t, uint64(5), p.Evicted)
	for i := range 5 {
		assert.NotContains(t, p.Applied, fmt.Sprintf("j%04d", i))
	}
	assert.Contains(t, p.Applied, "j0005")
}

// A journal confirms only what a payload shows; its own commit mark counts
// only when the payload evicted it.
func TestJournalConfirmed(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.db"))
	require.NoError(t, err)
	defer j.Close()
	_, err = j.Append([]Entry{{Op: OpUpsert, ID: "a", Doc: []byte(`{"id":"a"}`)}, {Op: OpUpsert, ID: "b", Doc: []byte(`{"id":"b"}`)}})
	require.NoError(t, err)
	require.NoError(t, j.Committed(2, 7))
	n, err := j.PendingCount()
	require.NoError(t, err)
	assert.Equal(t, 0, n, "committed entries are not pending")
	n, err = j.Unconfirmed()
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	done, err := j.Confirmed(Payload{Token: 8})
	require.NoError(t, err)
	assert.Equal(t, uint64(0), done, "a payload without this journal confirms nothing")
	done, err = j.Confirmed(Payload{Token: 9, Evicted: 6})
	require.NoError(t, err)
	assert.Equal(t, uint64(0), done, "evicted below our commit's token: ours was not evicted")
	done, err = j.Confirmed(Payload{Token: 9, Evicted: 7})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), done)
	done, err = j.Confirmed(Payload{Token: 9, Applied: map[string]Mark{j.ID(): {Seq: 1, Token: 7}}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), done, "the payload's word beats the journal's own")
}
