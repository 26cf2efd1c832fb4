// Package windows holds what make test-windows runs on this Linux host:
// wine-test.sh (the Wine prefix, the package tests built for Windows), the
// ProcessPrng shim for Wine 8 (shim/bcryptprimitives.c), the contender command,
// and the tests of this package, which drive tguard.exe under Wine next to
// the Linux tguard on the same folders. They skip unless TGUARD_WINE_EXE
// names tguard.exe (wine-test.sh sets it).
package windows
