package swift

// StatusOf is the status a refusal of the specification's own is answered
// with, 0 for other errors.
func StatusOf(err error) int {
	if se, ok := asStatusError(err); ok {
		return se.status
	}
	return 0
}

var (
	CanonicalRepoURL = canonicalRepoURL
	SameSwiftVersion = sameSwiftVersion
)
