package format

import (
	"context"
	"log/slog"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

// Gather reads one upstream document per distinct base URL of the external
// sources a package reaches, with read (a format's fetch of its document
// through the Fetcher's cache). A 404 is no document. A failing upstream
// never hides what is stored: it is logged as what (e.g. "upstream
// packument") and its error returned beside the documents that could be
// read; only the caller's cancellation stops the walk.
func Gather[D any](ctx context.Context, log *slog.Logger, what string, srcs []artifact.ExternalSource,
	read func(context.Context, artifact.ExternalSource) (D, error)) ([]D, error) {
	var out []D
	var lastErr error
	seen := map[string]bool{}
	for _, src := range srcs {
		if seen[src.BaseURL] {
			continue
		}
		seen[src.BaseURL] = true
		d, err := read(ctx, src)
		switch {
		case err == nil:
			out = append(out, d)
		case fault.KindOf(err) == fault.KindNotFound:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			log.Warn(what+" unavailable", "connection", src.Connection, "url", src.BaseURL, "err", err)
			lastErr = err
		}
	}
	return out, lastErr
}
