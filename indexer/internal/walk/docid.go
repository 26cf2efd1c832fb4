package walk

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrOutsideRoot: a path given to index is not below the Walker's Root, so
// it has no id relative to it.
var ErrOutsideRoot = errors.New("not below --root")

// Document ids of files are canonical, so that one file has one id however
// it is named:
//
//   - A path given to Walk is made absolute and cleaned, and symbolic links
//     in it are resolved ("corpus", "corpus/", "./x/../corpus" and a link to
//     it all name the same folder).
//   - Symbolic links met inside a walked folder are not followed (their
//     target is indexed under its own path when it is walked itself); they
//     are skipped with the reason "symbolic link".
//   - With Root set, a file's id is its path below Root with "/" as the
//     separator on every OS and a leading "/" ("/docs/a.txt"), so hosts that
//     mount one share at different places (/mnt/share, /srv/share, Z:\) give
//     a file the same id. Without Root the id is the absolute path.

// CanonicalPath is p made absolute and cleaned, with symbolic links resolved.
func CanonicalPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	return filepath.Clean(real), nil
}

// CanonicalRoot checks and resolves a --root folder.
func CanonicalRoot(root string) (string, error) {
	if root == "" {
		return "", nil
	}
	r, err := CanonicalPath(root)
	if err != nil {
		return "", fmt.Errorf("--root %s: %w", root, UnwrapPathError(err))
	}
	return r, nil
}

// ID is the document id of the file at canonical path p.
func (w *Walker) ID(p string) (string, error) {
	if w.Root == "" {
		return p, nil
	}
	rel, err := filepath.Rel(w.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s: %w %s", p, ErrOutsideRoot, w.Root)
	}
	if rel == "." {
		return "/", nil
	}
	return "/" + filepath.ToSlash(rel), nil
}

// FolderPrefixes are the id prefixes of the documents of files below the
// folder p (as given by the user): its canonical prefix and, without Root,
// the prefix of p as merely made absolute, so that --prune also removes
// the ids an older tguard gave to files reached through a symbolic link.
func (w *Walker) FolderPrefixes(p string) ([]string, error) {
	canon, err := CanonicalPath(p)
	if err != nil {
		return nil, err
	}
	id, err := w.ID(canon)
	if err != nil {
		return nil, err
	}
	sep := string(filepath.Separator)
	if w.Root != "" {
		sep = "/"
	}
	prefixes := []string{strings.TrimSuffix(id, sep) + sep}
	if w.Root == "" {
		if abs, err := filepath.Abs(p); err == nil && abs != canon {
			prefixes = append(prefixes, strings.TrimSuffix(abs, sep)+sep)
		}
	}
	return prefixes, nil
}
