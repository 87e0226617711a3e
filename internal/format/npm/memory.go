package npm

import (
	"runtime/debug"
	"time"
)

// bigBuild is the size of a rendered document above which its build is
// worth returning memory to the operating system for: rendering a
// packument of thousands of versions reads all of them at once, a peak
// that the Go runtime would otherwise keep mapped for minutes.
const bigBuild = 8 << 20

// releaseDelay gathers the builds of a burst (the full and abbreviated
// documents of a package, several packages of one install) into one full
// collection.
const releaseDelay = time.Second

// releaseMemoryAfter returns the memory big builds have freed to the
// operating system, once, shortly after the last of a burst.
func (h *Handler) releaseMemoryAfter(built int) {
	if built < bigBuild || !h.releasePending.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(releaseDelay, func() {
		h.releasePending.Store(false)
		debug.FreeOSMemory()
	})
}
