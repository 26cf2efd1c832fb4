package indexer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
)

// Accept journals documents durably; Flush applies them under the lease and
// commits with its fencing token.
func Example() {
	dir, _ := os.MkdirTemp("", "indexer-example")
	defer os.RemoveAll(dir)

	ix, err := indexer.New(filepath.Join(dir, "index"), indexer.WithJournal(filepath.Join(dir, "journal.db")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ix.Close()

	accepted, bad, err := ix.Accept([]indexer.Doc{
		{JSON: []byte(`{"id":"a","title":"Lease","body":"granted by mkdir"}`), Origin: "example:1"},
		{JSON: []byte(`{"title":"no id"}`), Origin: "example:2"},
	})
	fmt.Println("accepted", accepted, "refused", len(bad), err)

	res, err := ix.Flush(context.Background())
	fmt.Println("applied", res.Applied, "token", res.Token, err)

	idx, _ := bridge.Open(filepath.Join(dir, "index"))
	defer idx.Close()
	hits, _ := idx.Search("mkdir", 10)
	fmt.Println("hits", hits.Total)
	// Output:
	// accepted 1 refused 1 <nil>
	// applied 1 token 1 <nil>
	// hits 1
}
