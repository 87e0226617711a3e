package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	d := &Dialect{Name: "db"}
	files := func(names ...string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for _, n := range names {
			fsys["migrations/"+n] = &fstest.MapFile{Data: []byte("-- " + n)}
		}
		return fsys
	}
	steps, err := d.LoadMigrations(files("0002_b.sql", "0001_a.sql", "0003_c.sql", "README"))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range steps {
		if m.Version != i+1 || m.SQL != "-- "+m.Name || !strings.HasPrefix(m.Name, "000") {
			t.Errorf("step %d: %+v", i, m)
		}
	}
	if len(steps) != 3 || steps[2].Name != "0003_c.sql" {
		t.Errorf("steps %+v", steps)
	}
	for _, bad := range [][]string{{"0001_a.sql", "0003_c.sql"}, {"0002_b.sql"}, {"0001_a.sql", "x_b.sql"}} {
		if _, err := d.LoadMigrations(files(bad...)); err == nil || !strings.HasPrefix(err.Error(), "db: migration ") {
			t.Errorf("%v: %v, want a numbering error", bad, err)
		}
	}
}
