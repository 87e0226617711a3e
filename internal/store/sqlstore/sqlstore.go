// Package sqlstore is the SQL both drivers share: the record-level statements
// of the metadata store (store.Tx), written once for SQLite (store/sqlite) and
// PostgreSQL (store/postgres).
//
// A driver keeps what is its own: connections, transactions, the schema and
// its migrations, the write generation, locks and the classification of its
// errors. For each transaction it gives NewTx a Conn, its statements on the
// open transaction, and its Dialect, which says how the two databases differ
// where one statement cannot serve both: placeholders, case-insensitive
// names, the upper bound of a prefix, a few SQL fragments, planner hints and
// the one statement (ListDomainPackages) that each database plans well only
// in its own form.
//
// The statements are written with "?" placeholders, in the order of their
// arguments, and Dialect.Placeholders rewrites them for a database that wants
// another form (PostgreSQL's $1, $2, ...), once per statement text. Every
// text column compares in byte order in both schemas (BINARY, COLLATE "C"):
// listing keys and page keys rely on Go's string order, and a prefix is a
// range of that order. Conflicts are reported without a failed statement
// (ON CONFLICT DO NOTHING, an insert only WHERE EXISTS the referenced row),
// which PostgreSQL needs (a failed statement aborts its transaction) and
// SQLite accepts: a create that finds its key taken returns fault.ErrConflict
// and leaves the transaction usable.
package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Conn runs statements on a driver's open transaction. The driver prepares
// or caches statements by their text as it sees fit. Every statement it is
// given has been through Dialect.Placeholders.
type Conn interface {
	// Exec runs a statement that returns no rows and reports how many rows
	// it changed.
	Exec(query string, args ...any) (rowsAffected int64, err error)
	// Query runs a statement that returns rows; the caller closes them.
	Query(query string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row. Scanning a
	// statement that returned none fails with an error Dialect.IsNoRows
	// recognises.
	QueryRow(query string, args ...any) Row
}

// Rows are the rows of a statement, as *sql.Rows has them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is one row of a statement, or the error that came instead.
type Row interface {
	Scan(dest ...any) error
}

// Dialect is how a database differs from the SQL written here. The fields
// are set once by the driver; a Dialect must not be copied after first use.
type Dialect struct {
	// Name prefixes the errors of the driver ("sqlite: list packages: ...").
	Name string
	// Placeholders rewrites the "?" placeholders of a statement into the
	// database's own form (Numbered for PostgreSQL); nil keeps them. Its
	// result is cached by statement text.
	Placeholders func(query string) string
	// IsNoRows reports whether err says that a QueryRow found no row.
	IsNoRows func(err error) bool
	// Unavailable, if set, reports whether err says that the database
	// cannot be reached: such errors become fault.ErrUnavailable.
	Unavailable func(err error) bool
	// PrefixEnd returns the smallest string greater than every string that
	// starts with prefix in the database's text order, so that
	// `col >= prefix AND col < end` is an index range; ok is false when
	// there is none (BytePrefixEnd, UTF8PrefixEnd).
	PrefixEnd func(prefix string) (end string, ok bool)

	// NoCase returns the expression that compares and orders the IAM name
	// column col case-insensitively, along the index that makes names
	// unique: col itself when the column is COLLATE NOCASE (SQLite), or
	// lower(col) (PostgreSQL).
	NoCase func(col string) string
	// NoCaseArg is the placeholder of a name compared with NoCase(col):
	// "?", or its lower-cased form.
	NoCaseArg string
	// UpstreamNames is the expression, on a repository aliased r, of its
	// upstream names in order, as a JSON array ("[]" for none).
	UpstreamNames string
	// NewPackageID is the expression of the id of a new package, or "" when
	// the database generates it.
	NewPackageID string
	// In returns the condition that col is one of values (an []int64 or a
	// []string) with its one placeholder, and the argument that fills it,
	// so that every number of values shares one statement.
	In func(col string, values any) (cond string, arg any)
	// JSONPairs is a table of the members of a JSON object given as the
	// one placeholder, with the text columns key and value.
	JSONPairs string
	// SettingValue is the argument that stores a setting's value, or nil
	// to store it as the string it is. Values are read as bytes.
	SettingValue func(value string) any

	// IndexedBy, if set, returns the hint that has the database walk the
	// named index of the table before it.
	IndexedBy func(index string) string
	// PageByName has ListPackages with a name prefix choose the page from
	// the keys in packages_name first, and only then read its rows.
	PageByName bool
	// Replan, if not nil, is given as the first argument of a statement
	// whose best plan depends on its arguments (a name prefix matches few
	// names or many), so that the driver plans it for each run.
	Replan any
	// DomainPackages builds the ListDomainPackages statement from the
	// conditions (joined with AND, none when empty) on the packages,
	// aliased p, of the repositories of f.DomainID, their arguments, and
	// the page size (0 for no limit). The statement returns the distinct
	// format, namespace, name, in that order.
	DomainPackages func(f store.DomainPackageFilter, conds []string, args []any, limit int) (query string, queryArgs []any)

	rebound sync.Map // statement as written → as the database takes it
}

// sql returns the statement as the database takes it.
func (d *Dialect) sql(query string) string {
	if d.Placeholders == nil {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	q := d.Placeholders(query)
	d.rebound.Store(query, q)
	return q
}

// Wrap prefixes err with the operation, keeping fault errors as they are and
// making a failure to reach the database fault.ErrUnavailable.
func (d *Dialect) Wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*fault.Error](err); ok {
		return err
	}
	if d.Unavailable != nil && d.Unavailable(err) {
		return fault.Unavailable(err, "the metadata database is unavailable (%s)", what)
	}
	return fmt.Errorf("%s: %s: %w", d.Name, what, err)
}

// Tx implements store.Tx with the statements of this package on a driver's
// transaction. Its methods are spread over the files named after the
// records they store.
type Tx struct {
	c Conn
	d *Dialect
}

var _ store.Tx = (*Tx)(nil)

// NewTx returns the store.Tx that runs its statements on c.
func NewTx(c Conn, d *Dialect) *Tx { return &Tx{c: c, d: d} }

func (t *Tx) exec(query string, args ...any) (int64, error) {
	return t.c.Exec(t.d.sql(query), args...)
}

func (t *Tx) queryRow(query string, args ...any) Row {
	return t.c.QueryRow(t.d.sql(query), args...)
}

// execOne runs a statement that must change exactly one row, and reports
// notFound when it changed none.
func (t *Tx) execOne(notFound func() error, query string, args ...any) error {
	n, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound()
	}
	return nil
}

// listRows runs query, as the database takes it, and scans each row with
// scan.
func listRows[T any](t *Tx, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.c.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// list is listRows for a statement as written here.
func list[T any](t *Tx, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	return listRows(t, scan, t.d.sql(query), args...)
}

// scanString scans a row of one text column.
func scanString(r Row) (s string, err error) { return s, r.Scan(&s) }

// wrap is Dialect.Wrap.
func (t *Tx) wrap(err error, what string) error { return t.d.Wrap(err, what) }

// getErr maps a missing row to the fault.NotFound made by notFound, and
// wraps any other error with what was being done.
func (t *Tx) getErr(err error, what string, notFound func() error) error {
	if err != nil && t.d.IsNoRows(err) {
		return notFound()
	}
	return t.wrap(err, what)
}

// nanos converts a time to its stored form.
func nanos(t time.Time) int64 { return store.TimeNanos(t) }

// fromNanos converts a stored time back, in UTC; 0 is the zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// notNull returns b, or an empty slice for nil, which would bind as NULL.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// marshalList encodes a slice as a JSON array ("[]" for none).
func marshalList[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// unmarshalList decodes a JSON array; an empty one leaves *v nil, so that
// records read back compare equal to ones created without the slice.
func unmarshalList[T any](s string, v *[]T) error {
	if s == "" || s == "[]" || s == "null" {
		*v = nil
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// part returns k[i], or "" when the key has fewer parts (a malformed key
// then still sorts somewhere rather than failing).
func part(k []string, i int) string {
	if i < len(k) {
		return k[i]
	}
	return ""
}

// idString is an id as the message of a fault names it.
func idString(id int64) string { return strconv.FormatInt(id, 10) }

// where accumulates the conditions and arguments of a dynamic statement.
type where struct {
	d     *Dialect
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// prefix constrains col to values starting with p (no-op for ""): a range,
// not a LIKE pattern, so '%' and '_' are plain characters.
func (w *where) prefix(col, p string) {
	if p == "" {
		return
	}
	w.add(col+" >= ?", p)
	if end, ok := w.d.PrefixEnd(p); ok {
		w.add(col+" < ?", end)
	}
}

// String returns the WHERE clause, if any.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit returns the LIMIT clause of a page, adding its argument; none for a
// zero or negative Limit.
func (w *where) limit(p store.Page) string {
	if p.Limit <= 0 {
		return ""
	}
	w.args = append(w.args, p.Limit)
	return " LIMIT ?"
}
