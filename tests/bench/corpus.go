package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tguard/tguard/indexer"
)

// corpus is the Go distribution's sources as JSON lines, made once per run
// with the walk that "tguard index" uses on a folder (indexer.WalkDocs), so every line
// is exactly the document tguard would make of that file.
type corpus struct {
	root     string    // the folder walked
	full     string    // every document of this mode
	half     string    // every second document of full
	double   string    // full twice, the copy under other ids (for job 6)
	quad     string    // full four times, likewise
	quarters [4]string // document i of full goes to quarter i%4
	docs     int       // lines in full
	bytes    int64     // size of full
	quarterN [4]int
	halfN    int
}

// buildCorpus writes the corpus files into dir. every > 1 keeps one
// document in every (the quick mode's subset, spread over the whole tree).
func buildCorpus(dir string, every int) (*corpus, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	c := &corpus{root: filepath.Join(strings.TrimSpace(string(out)), "src")}
	c.full = filepath.Join(dir, "corpus.jsonl")
	c.half = filepath.Join(dir, "corpus-half.jsonl")
	c.double = filepath.Join(dir, "corpus-double.jsonl")
	c.quad = filepath.Join(dir, "corpus-quad.jsonl")
	files := []*os.File{}
	create := func(path string) (*bufio.Writer, error) {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return bufio.NewWriterSize(f, 1<<20), nil
	}
	full, err := create(c.full)
	if err != nil {
		return nil, err
	}
	half, err := create(c.half)
	if err != nil {
		return nil, err
	}
	var quarters [4]*bufio.Writer
	for i := range quarters {
		c.quarters[i] = filepath.Join(dir, fmt.Sprintf("corpus-q%d.jsonl", i))
		if quarters[i], err = create(c.quarters[i]); err != nil {
			return nil, err
		}
	}
	seen := 0
	werr := indexer.WalkDocs([]string{c.root}, func(d indexer.Doc) error {
		seen++
		if every > 1 && seen%every != 1 {
			return nil
		}
		line := append(d.JSON, '\n')
		if _, err := full.Write(line); err != nil {
			return err
		}
		if c.docs%2 == 0 {
			c.halfN++
			_, _ = half.Write(line)
		}
		q := c.docs % 4
		c.quarterN[q]++
		_, _ = quarters[q].Write(line)
		c.docs++
		c.bytes += int64(len(line))
		return nil
	})
	for i, b := range append([]*bufio.Writer{full, half}, quarters[:]...) {
		if err := b.Flush(); err != nil && werr == nil {
			werr = err
		}
		if err := files[i].Close(); err != nil && werr == nil {
			werr = err
		}
	}
	if werr != nil {
		return nil, werr
	}
	if err := writeCopies(c.full, c.double, 2); err != nil {
		return nil, err
	}
	return c, writeCopies(c.full, c.quad, 4)
}

// writeCopies writes every line of src n times into dst: as it is, then
// with "copyK:" put before its id (K = 2..n), so every copy is another
// document.
func writeCopies(src, dst string, n int) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, _ = w.Write(data)
	lines := bytes.SplitAfter(data, []byte("\n"))
	for k := 2; k <= n; k++ {
		for _, line := range lines {
			if len(line) == 0 {
				continue
			}
			if !bytes.HasPrefix(line, []byte(`{"id":"`)) {
				f.Close()
				return fmt.Errorf("corpus line does not start with its id: %.40q", line)
			}
			_, _ = fmt.Fprintf(w, `{"id":"copy%d:`, k)
			_, _ = w.Write(line[len(`{"id":"`):])
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
