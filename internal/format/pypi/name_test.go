package pypi

import "testing"

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{"Foo_Bar": "foo-bar", "foo.bar": "foo-bar", "FOO--_.bar": "foo-bar", "a": "a"} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "a b", "a/b", "é"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

func TestParseFileName(t *testing.T) {
	for _, c := range []struct {
		name, project string
		want          File
		ok            bool
	}{
		{"foo_bar-1.0-py3-none-any.whl", "", File{Kind: KindWheel, Project: "foo_bar", Version: "1.0"}, true},
		{"foo_bar-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", "Foo.Bar", File{Kind: KindWheel, Project: "foo_bar", Version: "1.0"}, true},
		{"foo_bar-1.0-py3-none-any.whl", "other", File{}, false},
		{"foo_bar-1.0-py3-any.whl", "", File{}, false},
		{"Foo_Bar-1.0.0.tar.gz", "foo-bar", File{Kind: KindSdist, Project: "Foo_Bar", Version: "1.0.0"}, true},
		{"foo-bar-1.0.tar.gz", "foo-bar", File{Kind: KindSdist, Project: "foo-bar", Version: "1.0"}, true},
		{"foo-bar-1.0.tar.gz", "", File{Kind: KindSdist, Project: "foo-bar", Version: "1.0"}, true},
		{"foo-bar-1.0.zip", "foo.bar", File{Kind: KindSdist, Project: "foo-bar", Version: "1.0"}, true},
		{"foo-1.0-py3.8.egg", "foo", File{}, false},
		{"../foo-1.0.tar.gz", "foo", File{}, false},
		{"foo-1.0.tar.gz/x", "foo", File{}, false},
	} {
		got, ok := ParseFileName(c.name, c.project)
		c.want.Name = got.Name
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseFileName(%q, %q) = %+v, %v; want %+v, %v", c.name, c.project, got, ok, c.want, c.ok)
		}
	}
}
