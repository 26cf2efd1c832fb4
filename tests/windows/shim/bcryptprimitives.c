/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it.
 *
 * Go 1.24 and later fill their random numbers (crypto/rand, map seeds) with
 * bcryptprimitives.dll!ProcessPrng, the call Windows 10 and later export;
 * Wine 8.0 (Debian 12) has no such DLL, so every Go program built for
 * Windows stops at start ("Library bcryptprimitives.dll not found", status
 * c0000135). This DLL exports ProcessPrng on top of advapi32's
 * SystemFunction036 (RtlGenRandom), which Wine has and which reads the host's
 * random source. make test-windows builds it with mingw and copies it into
 * the test Wine prefix's system32; it is never shipped with tguard.exe, and
 * a real Windows has its own.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	/* RtlGenRandom takes a ULONG length: fill larger buffers in pieces. */
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	/* Windows' own never fails; Go ends the program if this one does,
	 * which is right: weak random numbers would be worse. */
	return TRUE;
}
