// Package indexer writes documents into a Tantivy index through the bridge.
//
// A Walker turns files and folders into documents; a Batcher sends them to
// the index writer in batches of JSON lines, one cgo call per batch, and maps
// the index's per-line errors back to the file and line they came from.
package indexer
