package cargo

import (
	"strings"

	"coffer/internal/fault"
)

// MaxNameLength is the public crates registry's bound on a crate name.
const MaxNameLength = 64

// reservedNames are the names the public crates registry refuses (its
// reserved_crate_names table: the compiler's own crates, and the device
// names Windows cannot create as files), in Canonical form.
var reservedNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"alloc", "arena", "ast", "builtins", "collections", "compiler-builtins",
		"compiler-rt", "compiletest", "core", "coretest", "debug", "driver",
		"flate", "fmt_macros", "grammar", "graphviz", "macro", "macros",
		"proc_macro", "rbml", "rust-installer", "rustbook", "rustc",
		"rustc_back", "rustc_borrowck", "rustc_driver", "rustc_llvm",
		"rustc_resolve", "rustc_trans", "rustc_typeck", "rustdoc", "rustllvm",
		"rustuv", "serialize", "std", "syntax", "test", "unicode",
		"con", "prn", "aux", "nul",
		"com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
		"lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
	} {
		m[Canonical(n)] = true
	}
	return m
}()

// Canonical is the form under which two crate names are the same crate:
// lower case, with "-" folded into "_" ("Foo-Bar", "foo_bar" ->
// "foo_bar"), the public crates registry's canon_crate_name. A registry
// keeps one crate per canonical name; the name it shows and serves in the
// index is the spelling of the first publish.
func Canonical(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "-", "_")
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// nameSyntax reports whether name is 1–64 ASCII letters, digits, "-" and
// "_" beginning with a letter (or, when underscore, with "_").
func nameSyntax(name string, underscore bool) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	if c := name[0]; !isAlpha(c) && !(underscore && c == '_') {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// CheckName validates the name of a crate being published, as the public
// crates registry does: 1–64 ASCII letters, digits, "-" and "_", starting
// with a letter, and not a reserved name (in any case or spelling of "-"
// and "_"). The error is a validation fault whose message cargo shows.
func CheckName(name string) error {
	switch {
	case name == "":
		return fault.Validation("the crate name is empty")
	case len(name) > MaxNameLength:
		return fault.Validation("the crate name `%s` is longer than %d characters", printable(name), MaxNameLength)
	case !isAlpha(name[0]):
		return fault.Validation("invalid crate name `%s`: it must start with an ASCII letter", printable(name))
	case !nameSyntax(name, false):
		return fault.Validation("invalid crate name `%s`: only ASCII letters, digits, `-` and `_` are allowed", printable(name))
	case reservedNames[Canonical(name)]:
		return fault.Validation("the crate name `%s` is reserved", name)
	}
	return nil
}

// ValidName reports whether CheckName accepts name.
func ValidName(name string) bool { return CheckName(name) == nil }

// validDepName is the rule for the names a dependency is known by (the
// crate it names, or the name it is renamed to in Cargo.toml): a crate
// name that may also begin with "_", reserved names included (they may
// come from other registries).
func validDepName(name string) bool { return nameSyntax(name, true) }

// printable bounds and escapes a client-supplied string for a message.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s), "?")
}

// IndexPath is the path of a crate's file in a sparse index, relative to
// the index root: "1/{n}", "2/{n}", "3/{c}/{n}" or "{ab}/{cd}/{n}", of the
// lower-cased name ("Serde_JSON" -> "se/rd/serde_json"). name must be a
// valid (ASCII) crate name.
func IndexPath(name string) string {
	n := strings.ToLower(name)
	switch len(n) {
	case 0:
		return ""
	case 1:
		return "1/" + n
	case 2:
		return "2/" + n
	case 3:
		return "3/" + n[:1] + "/" + n
	}
	return n[:2] + "/" + n[2:4] + "/" + n
}

// ParseIndexPath is IndexPath's inverse: the (lower-case) crate name whose
// index file p names, p being relative to the index root without a leading
// "/". It refuses a path that is not exactly the name's own IndexPath
// (another shard, upper case, extra segments) and one whose name no crate
// can have (so config.json is never taken for a crate). The name found is
// as cargo asked for it: the crate it designates is looked up by Canonical,
// and served only when its own name, lower-cased, is this name, as the
// public registry does (it answers foo_bar's path with 404 when the crate
// is foo-bar).
func ParseIndexPath(p string) (string, bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", false
	}
	name := p[i+1:]
	if !nameSyntax(name, false) || strings.ToLower(name) != name || IndexPath(name) != p {
		return "", false
	}
	return name, true
}
