package pypi

import "io"

// SetSpoolWriter makes h spool uploads through wrap (tests inject write
// failures with it).
func SetSpoolWriter(h *Handler, wrap func(io.Writer) io.Writer) { h.wrapSpool = wrap }
