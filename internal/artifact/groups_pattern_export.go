package artifact

// ParsePackageGroupPattern validates a package group pattern and returns it
// in canonical form (namespaces and names normalised). Callers outside the
// engine that keep patterns of their own (supply-chain rules) use it so that
// one grammar serves every pattern coffer accepts.
func ParsePackageGroupPattern(field, pattern string) (string, error) {
	p, err := parsePattern(field, pattern)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}
