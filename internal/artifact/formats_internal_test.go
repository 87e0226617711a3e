package artifact

import "testing"

// TestNpmFormatHooks: npm's display version is the "latest" dist-tag, and a
// copy takes the tags (first source wins) that name copied versions.
func TestNpmFormatHooks(t *testing.T) {
	npm := formatOf(FormatNpm)
	if got := npm.DisplayVersion(`{"dist-tags":{"latest":"1.2.0","next":"2.0.0-rc.1"}}`); got != "1.2.0" {
		t.Errorf("DisplayVersion = %q, want 1.2.0", got)
	}
	if got := npm.DisplayVersion("not json"); got != "" {
		t.Errorf("DisplayVersion of unreadable metadata = %q", got)
	}
	sources := []string{`{"dist-tags":{"latest":"1.0.0","beta":"2.0.0"}}`, `{"dist-tags":{"latest":"9.0.0","old":"0.1.0"}}`}
	copied := func(v string) bool { return v == "1.0.0" || v == "0.1.0" || v == "9.0.0" }
	got, changed := npm.CopyMetadata(`{"dist-tags":{"latest":"0.9.0","keep":"0.5.0"}}`, sources, copied)
	if want := `{"dist-tags":{"keep":"0.5.0","latest":"1.0.0","old":"0.1.0"}}`; !changed || got != want {
		t.Errorf("CopyMetadata = %s, %v, want %s, true", got, changed, want)
	}
	dst := `{"dist-tags":{"latest":"1.0.0"}}`
	if got, changed := npm.CopyMetadata(dst, sources[:1], func(v string) bool { return v == "1.0.0" }); changed || got != dst {
		t.Errorf("CopyMetadata with nothing new = %s, %v", got, changed)
	}
	if got, changed := npm.CopyMetadata("", sources, func(string) bool { return false }); changed || got != "" {
		t.Errorf("CopyMetadata with nothing copied = %s, %v", got, changed)
	}
}
