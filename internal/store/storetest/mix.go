package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"coffer/internal/store"
)

// PackageMix returns n packages of one repository shaped like a busy
// registry, the same for every call (a fixed seed), for the drivers' query
// plan tests and benchmarks: 70% npm (a fifth of them in 200 scopes), 20%
// pypi, 10% maven in 500 groups; 1% block publishing, 10% upstreams. Names
// start with two of 40 syllables, so a one-syllable name prefix matches
// about 1 in 40 packages.
func PackageMix(repositoryID int64, n int) []store.Package {
	syllables := strings.Fields("ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no " +
		"ha hi fu he ho ma mi mu me mo ya yu yo ra ri ru re ro wa wo")
	rng := rand.New(rand.NewPCG(1, 1))
	pkgs := make([]store.Package, 0, n)
	for i := range n {
		p := store.Package{RepositoryID: repositoryID, Publish: "ALLOW", Upstream: "ALLOW", Metadata: "{}",
			Name: syllables[rng.IntN(len(syllables))] + syllables[rng.IntN(len(syllables))] + fmt.Sprint("-", i)}
		switch x := rng.IntN(10); {
		case x < 7:
			p.Format = "npm"
			if rng.IntN(5) == 0 {
				p.Namespace = fmt.Sprintf("scope%03d", rng.IntN(200))
			}
		case x < 9:
			p.Format = "pypi"
		default:
			p.Format = "maven"
			p.Namespace = fmt.Sprintf("org.group%03d", rng.IntN(500))
		}
		if rng.IntN(100) == 0 {
			p.Publish = "BLOCK"
		}
		if rng.IntN(10) == 0 {
			p.Upstream = "BLOCK"
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
