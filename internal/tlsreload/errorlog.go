package tlsreload

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// handshakePrefix starts the line net/http logs for each failed TLS
// handshake (scanners, clients that do not trust the certificate, plain
// HTTP sent to the TLS port).
const handshakePrefix = "http: TLS handshake error"

// ServerErrorLog is an http.Server.ErrorLog that writes to l: ordinary
// lines at warning level; TLS handshake errors, which anyone on the network
// can cause, at debug level except for one warning per window that says
// how many there were since the last one.
func ServerErrorLog(l *slog.Logger, window time.Duration) *log.Logger {
	return log.New(&errorLogWriter{log: l, window: window, now: time.Now}, "", 0)
}

type errorLogWriter struct {
	log    *slog.Logger
	window time.Duration
	now    func() time.Time

	mu         sync.Mutex
	lastWarn   time.Time
	suppressed int
}

func (w *errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	if !strings.HasPrefix(msg, handshakePrefix) {
		w.log.Warn(msg)
		return len(p), nil
	}
	w.mu.Lock()
	now := w.now()
	warn := w.lastWarn.IsZero() || now.Sub(w.lastWarn) >= w.window
	suppressed := w.suppressed
	if warn {
		w.lastWarn, w.suppressed = now, 0
	} else {
		w.suppressed++
	}
	w.mu.Unlock()
	if warn {
		w.log.Warn(msg, "handshake_errors_not_shown_since_last", suppressed, "next_in", w.window.String())
	} else {
		w.log.Log(context.Background(), slog.LevelDebug, msg)
	}
	return len(p), nil
}
