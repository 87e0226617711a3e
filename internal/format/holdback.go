package format

import "io"

// holdBack passes a body on to W as it arrives but keeps its last byte
// until Release. A download streamed to its client while it is being
// stored then ends cut short, not complete, when the store fails
// afterwards (a checksum mismatch, a failed commit).
type holdBack struct {
	W       io.Writer
	held    [1]byte
	hasHeld bool
}

// Write sends p but its last byte, and the byte held from before.
func (h *holdBack) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if h.hasHeld {
		if _, err := h.W.Write(h.held[:]); err != nil {
			return 0, err
		}
	}
	if _, err := h.W.Write(p[:len(p)-1]); err != nil {
		return 0, err
	}
	h.held[0], h.hasHeld = p[len(p)-1], true
	return len(p), nil
}

// Release sends the held byte, if any; it reports whether that worked.
func (h *holdBack) Release() bool {
	if !h.hasHeld {
		return true
	}
	_, err := h.W.Write(h.held[:])
	return err == nil
}
