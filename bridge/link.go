package bridge

// The static library is built per target triple by the Makefile; each
// GOOS/GOARCH links its own. The extra libraries are what Rust's std needs
// in a static link (see `rustc --print native-static-libs`).

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo linux,amd64 LDFLAGS: ${SRCDIR}/../rust/target/x86_64-unknown-linux-gnu/release/libtguard_bridge.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#cgo linux,arm64 LDFLAGS: ${SRCDIR}/../rust/target/aarch64-unknown-linux-gnu/release/libtguard_bridge.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#cgo windows,amd64 LDFLAGS: ${SRCDIR}/../rust/target/x86_64-pc-windows-gnu/release/libtguard_bridge.a -lws2_32 -luserenv -lbcrypt -lntdll -ladvapi32 -lkernel32 -lsynchronization
#include "tguard_bridge.h"
*/
import "C"
