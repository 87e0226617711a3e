package iam

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// param is a request parameter with IAM's constraints, checked the way IAM
// reports them ("1 validation error detected: Value 'x' at 'userName' failed
// to satisfy constraint: ...").
type param struct {
	name     string // form field, e.g. "UserName"
	min, max int    // length in characters
	re       *regexp.Regexp
}

var (
	reName        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	reSessionName = regexp.MustCompile(`^[\w+=,.@-]*$`)
	rePath        = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	rePathPrefix  = regexp.MustCompile(`^/[\x21-\x7E]*$`)
	reKeyID       = regexp.MustCompile(`^\w+$`)
	reVersionID   = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
	reDescription = regexp.MustCompile(`^[\t\n\r\x{20}-\x{7E}\x{A1}-\x{FF}]*$`)
	reDocument    = regexp.MustCompile(`^[\t\n\r\x{20}-\x{FF}]+$`)
)

var (
	pUserName       = param{"UserName", 1, 64, reName}
	pGroupName      = param{"GroupName", 1, 128, reName}
	pRoleName       = param{"RoleName", 1, 64, reName}
	pPolicyName     = param{"PolicyName", 1, 128, reName}
	pPath           = param{"Path", 1, 512, rePath}
	pPathPrefix     = param{"PathPrefix", 1, 512, rePathPrefix}
	pAccessKeyID    = param{"AccessKeyId", 16, 128, reKeyID}
	pPolicyARN      = param{"PolicyArn", 20, 2048, nil}
	pVersionID      = param{"VersionId", 1, 128, reVersionID}
	pDescription    = param{"Description", 0, 1000, reDescription}
	pPolicyDocument = param{"PolicyDocument", 1, 131072, reDocument}
	pTrustDocument  = param{"AssumeRolePolicyDocument", 1, 131072, reDocument}
	pRoleARN        = param{"RoleArn", 20, 2048, nil}
	pSessionName    = param{"RoleSessionName", 2, 64, reSessionName}
	pExternalID     = param{"ExternalId", 2, 1224, regexp.MustCompile(`^[\w+=,.@:/-]*$`)}
)

// check validates a present value.
func (p param) check(v string) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < p.min:
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", v, p.field(), p.min)
	case n > p.max:
		return validationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", p.field(), p.max)
	case p.re != nil && !p.re.MatchString(v):
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", v, p.field(), patternText(p.re))
	}
	return nil
}

// field is the member name as IAM's messages spell it (lower camel case).
func (p param) field() string { return strings.ToLower(p.name[:1]) + p.name[1:] }

func patternText(re *regexp.Regexp) string {
	s := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
	return strings.NewReplacer(`\x21`, `\u0021`, `\x7E`, `\u007E`, `\x{20}`, `\u0020`, `\x{7E}`, `\u007E`,
		`\x{A1}`, `\u00A1`, `\x{FF}`, `\u00FF`).Replace(s)
}

func missing(p param) error {
	return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", p.field())
}

// ARNs and ids.

func (id *Identity) entityARN(kind, path, name string) string {
	return "arn:aws:iam::" + id.accountID + ":" + kind + path + name
}

func (id *Identity) sessionARN(role, session string) string {
	return "arn:aws:sts::" + id.accountID + ":assumed-role/" + role + "/" + session
}

// newID makes a unique id the way IAM spells them: a type prefix (AIDA
// user, AGPA group, AROA role, ANPA policy) and 17 more characters.
func newID(prefix string) string { return prefix + randomString(17, upperDigits) }

// splitARN returns the path and name of an IAM ARN of the given kind in this
// account ("arn:aws:iam::<acct>:<kind>/<path/>name").
func (id *Identity) splitARN(arn, kind string) (path, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+id.accountID+":"+kind+"/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	return "/" + rest[:i+1], rest[i+1:], true
}
