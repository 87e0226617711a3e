package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\ncr\r\x01\x1f", "ünïcödé ✓", "<&>", "bad \xff utf8"} {
		var got string
		if err := json.Unmarshal(Append(nil, s), &got); err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("%q round-trips as %q", s, got)
		}
	}
}
