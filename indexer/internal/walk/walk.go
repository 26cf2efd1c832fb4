// Package walk turns files and folders into documents of the default
// schema, with canonical ids (docid.go), for tguard index.
package walk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxSize is the largest text file indexed as one document.
const DefaultMaxSize = 10 << 20

// fileDoc is the default schema's document for a text file.
type fileDoc struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Modified string `json:"modified"`
}

// Walker turns files and folders into documents: a text file is one
// document (its id is its canonical path, see docid.go); a *.jsonl file
// holds one document per line. Binary files, files that are not UTF-8 and
// files over MaxSize are skipped and reported, never indexed half.
type Walker struct {
	MaxSize int64
	// OnDoc receives each document (a JSON object with an "id") and where
	// it came from ("path" or "path:line"); returning an error stops the
	// walk.
	OnDoc func(doc []byte, origin string) error
	// OnSkip receives each skipped file or line, and why.
	OnSkip func(path, reason string)
	// OnFile is called once per regular file seen, with its canonical path.
	OnFile func(path string)
	// Root, if set (canonical, see CanonicalRoot), makes file ids relative
	// to it; see docid.go.
	Root string
	// OnRef, when set, receives each text file that passed the checks,
	// with its content, and each JSON-lines file, unread, in place of
	// OnDoc: the caller journals a reference to the file instead of a copy
	// of its documents.
	OnRef func(FileDoc) error
	// Unchanged, when set, is asked first about each regular file (by its
	// id, see ID, with the state of the opened file); true skips it: it
	// has not changed since it was last journaled under that id.
	Unchanged func(id string, f *os.File, fi os.FileInfo) bool
}

// FileDoc is a file the walk found, for Walker.OnRef.
type FileDoc struct {
	Path  string // canonical absolute path: what is read, and named in messages
	ID    string // the document's id (see ID), or the JSON-lines file's
	Info  os.FileInfo
	Lines bool   // a JSON-lines file (Body is nil)
	Body  []byte // a text file's content, checked
}

// Walk walks each path (a file or a folder) in order. Unreadable entries are
// skipped and reported; only an error from OnDoc, or a path that does not
// exist, stops it.
func (w *Walker) Walk(paths []string) error {
	for _, given := range paths {
		if _, err := os.Stat(given); err != nil {
			return fmt.Errorf("%s: %w", given, UnwrapPathError(err))
		}
		p, err := CanonicalPath(given)
		if err != nil {
			return fmt.Errorf("%s: %w", given, UnwrapPathError(err))
		}
		if _, err := w.ID(p); err != nil {
			return err
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				w.skip(path, UnwrapPathError(err).Error())
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir // .git, .tguard-lease and such
				}
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				w.skip(path, "symbolic link")
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if w.OnFile != nil {
				w.OnFile(path)
			}
			return w.file(path)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Walker) skip(path, reason string) {
	if w.OnSkip != nil {
		w.OnSkip(path, reason)
	}
}

// UnwrapPathError is the error of a *fs.PathError without its path (the
// caller names the file itself).
func UnwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (w *Walker) file(path string) error {
	id, err := w.ID(path)
	if err != nil {
		w.skip(path, err.Error())
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		w.skip(path, UnwrapPathError(err).Error())
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		w.skip(path, UnwrapPathError(err).Error())
		return nil
	}
	if w.Unchanged != nil && w.Unchanged(id, f, fi) {
		return nil
	}
	if strings.HasSuffix(path, ".jsonl") {
		if w.OnRef != nil {
			return w.OnRef(FileDoc{Path: path, ID: id, Info: fi, Lines: true})
		}
		return w.jsonLines(path, f)
	}
	max := w.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	if fi.Size() > max {
		w.skip(path, fmt.Sprintf("larger than %d bytes", max))
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		w.skip(path, UnwrapPathError(err).Error())
		return nil
	}
	if reason := NotText(body); reason != "" {
		w.skip(path, reason)
		return nil
	}
	if w.OnRef != nil {
		return w.OnRef(FileDoc{Path: path, ID: id, Info: fi, Body: body})
	}
	doc, err := TextDoc(id, path, body, fi)
	if err != nil {
		return err
	}
	return w.OnDoc(doc, path)
}

// TextDoc is the default schema's document of the text file at path,
// whose id is id (see ID).
func TextDoc(id, path string, body []byte, fi os.FileInfo) ([]byte, error) {
	return json.Marshal(fileDoc{
		ID: id, Path: id, Title: filepath.Base(path), Body: string(body),
		Modified: fi.ModTime().UTC().Format(time.RFC3339),
	})
}

// NotText says why body is not indexed as text, or "" if it is.
func NotText(body []byte) string {
	head := body[:min(len(body), 8000)]
	if bytes.IndexByte(head, 0) >= 0 {
		return "binary"
	}
	if !utf8.Valid(body) {
		return "not UTF-8"
	}
	return ""
}

// jsonLines passes each non-blank line on as it is; the index checks it
// against the schema and reports bad lines by their origin.
func (w *Walker) jsonLines(path string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if derr := w.OnDoc(bytes.TrimRight(line, "\r\n"), fmt.Sprintf("%s:%d", path, n)); derr != nil {
				return derr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			w.skip(fmt.Sprintf("%s:%d", path, n), UnwrapPathError(err).Error())
			return nil
		}
	}
}
