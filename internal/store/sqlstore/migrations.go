package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered step of a driver's schema.
type Migration struct {
	Version int
	Name    string // the file's name
	SQL     string
}

// LoadMigrations reads a driver's schema steps from fsys, the files
// migrations/NNNN_description.sql, in order, and checks that they are
// numbered from 1 without gaps. Applying them is the driver's business.
func (d *Dialect) LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var steps []Migration
	for _, name := range names { // fs.Glob returns names sorted
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("%s: migration %s: name must start with its number", d.Name, base)
		}
		if v != len(steps)+1 {
			return nil, fmt.Errorf("%s: migration %s: expected number %04d", d.Name, base, len(steps)+1)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		steps = append(steps, Migration{Version: v, Name: base, SQL: string(body)})
	}
	return steps, nil
}
