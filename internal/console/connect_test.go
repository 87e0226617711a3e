package console

import (
	"slices"
	"testing"

	"coffer/internal/artifact"
)

// TestClientsCoverFormatTable: every format of the format table has a tab of
// connection instructions, every tab is of a format in the table, and each
// tab's snippets are its own.
func TestClientsCoverFormatTable(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range clients {
		if ids[c.ID] {
			t.Errorf("client %s listed twice", c.ID)
		}
		ids[c.ID] = true
		if _, ok := artifact.LookupFormat(c.Format); !ok {
			t.Errorf("client %s: format %q is not in the format table", c.ID, c.Format)
		}
		if c.snippets == nil || len(c.snippets(conn{endpoint: "http://h/x/", api: "http://h"})) == 0 {
			t.Errorf("client %s: no snippets", c.ID)
		}
	}
	for _, f := range artifact.Formats {
		if !slices.ContainsFunc(clients, func(c client) bool { return c.Format == f }) {
			t.Errorf("format %s has no connection instructions", f)
		}
	}
}
