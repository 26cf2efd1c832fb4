//go:build !failpoints

package indexer

// failpoint is empty in a normal build: no option can make the indexer
// stop or crash its own process (see failpoint.go, -tags failpoints).
type failpoint struct{}

func (*failpoint) hit(string) {}
