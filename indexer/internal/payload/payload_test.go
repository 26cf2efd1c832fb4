package payload

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPayloadReadsVersion1(t *testing.T) {
	v1 := `{"v":1,"token":4,"applied":{"j1":7,"j2":9}}`
	p, err := Parse(&v1)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), p.Token)
	assert.Equal(t, Mark{Seq: 7}, p.Applied["j1"])
	assert.Equal(t, Mark{Seq: 9}, p.Applied["j2"])

	n := p.Next(5, "g", "j1", 12)
	back := n.Encode()
	q, err := Parse(&back)
	require.NoError(t, err)
	assert.Equal(t, Version, q.Version)
	assert.Equal(t, "g", q.Grant)
	assert.Equal(t, Mark{Seq: 12, Token: 5}, q.Applied["j1"])
	assert.Equal(t, Mark{Seq: 9}, q.Applied["j2"])

	future := `{"v":3,"token":1}`
	_, err = Parse(&future)
	assert.ErrorContains(t, err, "newer than this build")
}

// The applied map is capped: the journals whose last commit is oldest go
// first, and the highest evicted token is remembered.
func TestPayloadAppliedCapped(t *testing.T) {
	var p Payload
	for i := range MaxJournals + 5 {
		p = p.Next(uint64(i+1), "g", fmt.Sprintf("j%04d", i), 1)
	}
	assert.Len(t, p.Applied, MaxJournals)
	assert.Equal(t, uint64(5), p.Evicted)
	for i := range 5 {
		assert.NotContains(t, p.Applied, fmt.Sprintf("j%04d", i))
	}
	assert.Contains(t, p.Applied, "j0005")
}
