package bridge

/*
#include "tguard_bridge.h"
*/
import "C"

// CheckSchema checks a schema without touching any disk: Tantivy's schema
// JSON (the "schema" array of meta.json, as tantivy-cli and tantivy-py
// write it), a whole meta.json, or tguard's {"fields":[...]}; "" is the
// default. It returns the schema in Tantivy's JSON, indented, equal for
// equal schemas. A bad schema is ErrInvalidArgument naming the field.
func CheckSchema(schemaJSON string) (string, error) {
	sp, sl := stringArg(schemaJSON)
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_schema_check(sp, sl, &out, &cerr); code != C.TG_OK {
		return "", takeError(code, cerr)
	}
	return takeString(out), nil
}

// Schema returns the schema the index keeps, as CheckSchema gives it.
func (ix *Index) Schema() (string, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.h == nil {
		return "", ErrClosed
	}
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_index_schema(ix.h, &out, &cerr); code != C.TG_OK {
		return "", takeError(code, cerr)
	}
	return takeString(out), nil
}

// takeString copies and frees a string returned by Rust.
func takeString(s *C.char) string {
	if s == nil {
		return ""
	}
	defer C.tg_string_free(s)
	return C.GoString(s)
}
