package bridge

/*
#include "tguard_bridge.h"
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

// bytesArg passes a Go slice as (ptr, len). Rust borrows it for the call
// only, so passing Go memory is allowed by the cgo rules (it holds no Go
// pointers). An empty slice is passed as NULL, 0.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// stringArg passes a Go string the same way, without copying.
func stringArg(s string) (*C.uint8_t, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// takeJSON decodes and frees a JSON string returned by Rust.
func takeJSON(s *C.char, into any) error {
	if s == nil {
		return &Error{Code: codeInternal, Message: "library returned no result"}
	}
	defer C.tg_string_free(s)
	if err := json.Unmarshal([]byte(C.GoString(s)), into); err != nil {
		return &Error{Code: codeInternal, Message: "decoding library result: " + err.Error()}
	}
	return nil
}
