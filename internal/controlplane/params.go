package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// strSpec is a string shape's constraints from the model.
type strSpec struct {
	min, max int    // length bounds in UTF-16 code units (the model counts like Java); max 0 = none
	pattern  string // the model's pattern, quoted in messages
	re       *regexp.Regexp
	enum     []string
	// name applies coffer's rule for namespaces, package names and
	// versions (artifact.NameProblem), stricter than the model's pattern.
	name bool
}

// patternSpec builds a length+pattern spec. goPattern is the model's Java
// pattern rewritten where Go differs (Java's \s includes \x0B).
func patternSpec(min, max int, modelPattern, goPattern string) strSpec {
	if goPattern == "" {
		goPattern = modelPattern
	}
	return strSpec{min: min, max: max, pattern: modelPattern, re: regexp.MustCompile(`^(?:` + goPattern + `)$`)}
}

func enumSpec(values ...string) strSpec { return strSpec{enum: values} }

// nameSpec adds coffer's name rule to s.
func nameSpec(s strSpec) strSpec {
	s.name = true
	return s
}

// The model's string shapes. They are never modified after initialisation.
var (
	specDomainName     = patternSpec(2, 50, `[a-z][a-z0-9\-]{0,48}[a-z0-9]`, "")
	specAccountID      = patternSpec(12, 12, `[0-9]{12}`, "")
	specRepositoryName = patternSpec(2, 100, `[A-Za-z0-9][A-Za-z0-9._\-]{1,99}`, "")
	specPackagePart    = nameSpec(patternSpec(1, 255, `[^#/\s]+`, `[^#/\s\x0B]+`)) // PackageName, PackageNamespace, PackageVersion
	specAssetName      = patternSpec(1, 255, `\P{C}+`, "")
	specRevision       = patternSpec(1, 50, `\S+`, `[^\s\x0B]+`)
	specExternalConn   = patternSpec(2, 100, `[A-Za-z0-9][A-Za-z0-9._\-:]{1,99}`, "")
	specDescription    = patternSpec(0, 1000, `\P{C}*`, "")
	specPolicyDocument = patternSpec(1, 7168, `[\P{C}\s]+`, `[\P{C}\s\x0B]+`)
	specPolicyRevision = patternSpec(1, 100, `\S+`, `[^\s\x0B]+`)
	specARN            = patternSpec(1, 1011, `\S+`, `[^\s\x0B]+`)
	specTagKey         = patternSpec(1, 128, `\P{C}+`, "")
	specTagValue       = patternSpec(0, 256, `\P{C}*`, "")
	specToken          = patternSpec(1, 2000, `\S+`, `[^\s\x0B]+`)
	specSHA256         = patternSpec(64, 64, `[0-9a-f]+`, "")

	specFormat        = enumSpec(artifact.Formats...) // the format table's rows
	specAllowBlock    = enumSpec("ALLOW", "BLOCK")
	specVersionStatus = enumSpec("Published", "Unfinished", "Unlisted", "Archived", "Disposed", "Deleted")
	specSortBy        = enumSpec("PUBLISHED_TIME")
	specOriginType    = enumSpec("INTERNAL", "EXTERNAL", "UNKNOWN")
	specEndpointType  = enumSpec("dualstack", "ipv4")
)

// Model limits other than string shapes.
const (
	maxResultsMin   = 1
	maxResultsMax   = 1000
	maxTags         = 200
	maxVersions     = 100
	maxBodyBytes    = 1 << 20 // JSON bodies are small: the largest is a 7168-char policy or 200 tags
	maxShownValue   = 128     // longer values are shortened in messages
	maxListedErrors = 10
)

// validator collects constraint violations in AWS's words
// ("Value 'X' at 'domain' failed to satisfy constraint: ...").
type validator struct {
	problems    []string
	cannotParse bool
}

func (v *validator) fail(field, shown, constraint string) {
	v.problems = append(v.problems, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown, field, constraint))
}

// missing reports an absent required member.
func (v *validator) missing(field string) { v.fail(field, "null", "Member must not be null") }

// unparsable reports a value that is not of the member's type.
func (v *validator) unparsable(field, value, constraint string) {
	v.cannotParse = true
	v.fail(field, quote(value), constraint)
}

// str checks a present string against spec.
func (v *validator) str(field, value string, s strSpec) {
	if s.enum != nil {
		if !slices.Contains(s.enum, value) {
			v.fail(field, quote(value), "Member must satisfy enum value set: ["+strings.Join(s.enum, ", ")+"]")
		}
		return
	}
	shown := value
	if s.name {
		shown = artifact.ShowName(value) // never echo what hides or reorders text
	}
	n := utf16Len(value)
	failed := len(v.problems)
	if n < s.min {
		v.fail(field, quote(shown), fmt.Sprintf("Member must have length greater than or equal to %d", s.min))
	}
	if s.max > 0 && n > s.max {
		v.fail(field, quote(shown), fmt.Sprintf("Member must have length less than or equal to %d", s.max))
	}
	if s.re != nil && (!utf8.ValidString(value) || !s.re.MatchString(value)) {
		v.fail(field, quote(shown), "Member must satisfy regular expression pattern: "+s.pattern)
	}
	if s.name && len(v.problems) == failed {
		if p := artifact.NameProblem(value); p != "" {
			v.fail(field, quote(shown), p)
		}
	}
}

// optStr checks an optional string given as a pointer and returns its value.
func (v *validator) optStr(field string, p *string, s strSpec) string {
	if p == nil {
		return ""
	}
	v.str(field, *p, s)
	return *p
}

// reqStr checks a required string given as a pointer and returns its value.
func (v *validator) reqStr(field string, p *string, s strSpec) string {
	if p == nil {
		v.missing(field)
		return ""
	}
	v.str(field, *p, s)
	return *p
}

// intRange checks min <= n <= max.
func (v *validator) intRange(field string, n, min, max int64) {
	if n < min {
		v.fail(field, quote(strconv.FormatInt(n, 10)), fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if n > max {
		v.fail(field, quote(strconv.FormatInt(n, 10)), fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// listMax checks a list's length.
func (v *validator) listMax(field string, list []string, max int) {
	if len(list) > max {
		v.fail(field, quote("["+strings.Join(list, ", ")+"]"), fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// err returns the collected problems as one ValidationException, or nil.
func (v *validator) err() error {
	n := len(v.problems)
	if n == 0 {
		return nil
	}
	shown := v.problems
	if n > maxListedErrors {
		shown = shown[:maxListedErrors]
	}
	noun := "error"
	if n > 1 {
		noun = "errors"
	}
	msg := fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(shown, "; "))
	reason := reasonFieldValidation
	if v.cannotParse {
		reason = reasonCannotParse
	}
	return &fault.Error{Kind: fault.KindValidation, Reason: reason, Message: msg}
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > maxShownValue {
		r := []rune(s)
		s = string(r[:maxShownValue]) + "..."
	}
	return "'" + s + "'"
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2 // a surrogate pair
		} else {
			n++
		}
	}
	return n
}

// input is one request's parameters being parsed: the query string and,
// where the model has one, the JSON body. Problems accumulate in v; done
// returns them all at once, as AWS does.
type input struct {
	q url.Values
	v validator
	// Pagination (pagination.go): the list operation, the parameters read
	// (for the token binding) and the token presented.
	op     string
	params map[string]string
	tok    *pageToken
}

// newInput parses the query string.
func newInput(r *http.Request) (*input, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, cannotParse("Cannot parse the query string: %v", err)
	}
	return &input{q: q}, nil
}

// done returns the validation error, if any. A pagination token is checked
// here, when every parameter it is bound to has been read.
func (in *input) done() error {
	in.checkToken()
	return in.v.err()
}

// raw returns the first value of the query parameter wire and whether it is present.
func (in *input) raw(wire string) (string, bool) {
	vals, ok := in.q[wire]
	if !ok || len(vals) == 0 {
		return "", false
	}
	in.recordParam(wire, vals[0])
	return vals[0], true
}

// str reads a string query parameter; field is the model member name that
// messages use.
func (in *input) str(wire, field string, s strSpec, required bool) string {
	val, ok := in.raw(wire)
	if !ok {
		if required {
			in.v.missing(field)
		}
		return ""
	}
	in.v.str(field, val, s)
	return val
}

// int reads an integer query parameter bounded by min and max; 0 if absent.
func (in *input) int(wire, field string, min, max int64) int64 {
	val, ok := in.raw(wire)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		in.v.unparsable(field, val, "Member must be an integer")
		return 0
	}
	in.v.intRange(field, n, min, max)
	return n
}

// bool reads a boolean query parameter; false if absent.
func (in *input) bool(wire, field string) bool {
	val, ok := in.raw(wire)
	if !ok {
		return false
	}
	switch strings.ToLower(val) {
	case "true":
		return true
	case "false":
		return false
	}
	in.v.unparsable(field, val, "Member must be a boolean (true or false)")
	return false
}

// domain reads domain* and domain-owner.
func (in *input) domain() artifact.DomainRef {
	return artifact.DomainRef{
		Name:  in.str("domain", "domain", specDomainName, true),
		Owner: in.str("domain-owner", "domainOwner", specAccountID, false),
	}
}

// repo reads the domain and repository*.
func (in *input) repo() artifact.RepoRef {
	d := in.domain()
	return artifact.RepoRef{DomainRef: d, Repository: in.str("repository", "repository", specRepositoryName, true)}
}

// pkgCoords reads format*, namespace and package*.
func (in *input) pkgCoords() (format, namespace, pkg string) {
	return in.str("format", "format", specFormat, true),
		in.str("namespace", "namespace", specPackagePart, false),
		in.str("package", "package", specPackagePart, true)
}

// pkg reads a repository and package coordinates.
func (in *input) pkg() artifact.PackageRef {
	ref := artifact.PackageRef{RepoRef: in.repo()}
	ref.Format, ref.Namespace, ref.Package = in.pkgCoords()
	return ref
}

// version reads a package and version*.
func (in *input) version() artifact.VersionRef {
	p := in.pkg()
	return artifact.VersionRef{PackageRef: p, Version: in.str("version", "packageVersion", specPackagePart, true)}
}

// body decodes the JSON request body into dst. An empty body is an empty
// object; unknown members are ignored, as AWS does.
func (in *input) body(r *http.Request, dst any) error {
	if r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			return fe // the body is not the one that was signed
		}
		return fault.Internal(err, "reading the request body")
	}
	if len(b) > maxBodyBytes {
		return cannotParse("The request body is larger than %d bytes", maxBodyBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return cannotParse("Cannot parse the request body: unexpected JSON %s for member '%s'", te.Value, te.Field)
		}
		return cannotParse("Cannot parse the request body as JSON: %v", err)
	}
	return nil
}

// tag is the model's Tag in a request body; pointers tell absent from empty.
type tag struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// tags validates a TagList at field and converts it.
func (in *input) tags(field string, list []tag) []store.Tag {
	if len(list) > maxTags {
		in.v.fail(field, quote(fmt.Sprintf("[%d tags]", len(list))), fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	out := make([]store.Tag, 0, len(list))
	for i, t := range list {
		prefix := fmt.Sprintf("%s.%d.member.", field, i+1)
		out = append(out, store.Tag{
			Key:   in.v.reqStr(prefix+"key", t.Key, specTagKey),
			Value: in.v.reqStr(prefix+"value", t.Value, specTagValue),
		})
	}
	return out
}

// versions validates a PackageVersionList at field.
func (in *input) versions(field string, list []string) {
	in.v.listMax(field, list, maxVersions)
	for i, ver := range list {
		in.v.str(fmt.Sprintf("%s.%d.member", field, i+1), ver, specPackagePart)
	}
}

// revisions validates a PackageVersionRevisionMap at field.
func (in *input) revisions(field string, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		in.v.str(field+".key", k, specPackagePart)
		in.v.str(field+"."+k+".value", m[k], specRevision)
	}
}

// cannotParse is a ValidationException with reason CANNOT_PARSE.
func cannotParse(format string, args ...any) *fault.Error {
	return &fault.Error{Kind: fault.KindValidation, Reason: reasonCannotParse, Message: fmt.Sprintf(format, args...)}
}
