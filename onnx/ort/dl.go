package ort

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// dcwp_dlopen opens a library with the dynamic loader and keeps it loaded; on failure it
// copies the loader's message into msg (dlerror's buffer belongs to the calling thread, which
// a goroutine may leave between two cgo calls).
static int dcwp_dlopen(const char *path, char *msg, size_t n) {
	if (dlopen(path, RTLD_LAZY) != NULL) return 0;
	const char *e = dlerror();
	snprintf(msg, n, "%s", e ? e : "dlopen failed");
	return -1;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// dlopen loads the library at path (a file name alone is searched as the loader searches a
// NEEDED entry: LD_LIBRARY_PATH, /etc/ld.so.cache, the default directories) and keeps it in
// the process, so a library that later needs it by its SONAME gets this one. The error is
// the loader's own message, which names the file it could not open.
func dlopen(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [1024]C.char
	if C.dcwp_dlopen(cpath, &msg[0], C.size_t(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}
