package share

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall"
)

// errnoNames are the errnos a file-system primitive of the share is seen to
// return, by name.
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.EIO: "EIO",
	syscall.EBADF: "EBADF", syscall.EAGAIN: "EAGAIN", syscall.EACCES: "EACCES",
	syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST", syscall.EXDEV: "EXDEV",
	syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL",
	syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS", syscall.EMLINK: "EMLINK",
	syscall.ENOTEMPTY: "ENOTEMPTY", syscall.ENOSYS: "ENOSYS", syscall.ENOTSUP: "ENOTSUP",
	syscall.ESTALE: "ESTALE", syscall.ETXTBSY: "ETXTBSY", syscall.ENOLCK: "ENOLCK",
	syscall.EINTR: "EINTR", syscall.ENOTCONN: "ENOTCONN", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ENODATA: "ENODATA",
}

// Outcome names what an operation returned: "" for nil, the errno's name
// ("EEXIST"), "errnoN" for another errno, "other" for an error without one.
func Outcome(err error) string {
	if err == nil {
		return ""
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		if n, ok := errnoNames[en]; ok {
			return n
		}
		return fmt.Sprintf("errno%d", int(en))
	}
	return "other"
}

// Counts renders a histogram of outcomes like "EEXIST:199,ENOENT:1"
// ("none" when empty).
func Counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
