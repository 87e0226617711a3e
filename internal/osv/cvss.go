package osv

import (
	"fmt"
	"math"
	"strings"
)

// cvss3Weights are the CVSS v3.1 specification's metric values (section
// 7.4); PR has a second value when the scope changes.
var cvss3Weights = map[string]map[string]float64{
	"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
	"AC": {"L": 0.77, "H": 0.44},
	"PR": {"N": 0.85, "L": 0.62, "H": 0.27},
	"UI": {"N": 0.85, "R": 0.62},
	"C":  {"H": 0.56, "L": 0.22, "N": 0},
	"I":  {"H": 0.56, "L": 0.22, "N": 0},
	"A":  {"H": 0.56, "L": 0.22, "N": 0},
	"S":  {"U": 0, "C": 0},
}

// CVSS3Score computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/..."), with the v3.1 formulas (section 7.1) and
// its Roundup (appendix A), which differs from v3.0's only by floating
// point noise. Temporal and environmental metrics may follow and are
// ignored; each base metric must appear once.
func CVSS3Score(vector string) (float64, error) {
	parts := strings.Split(vector, "/")
	if len(parts) == 0 || (parts[0] != "CVSS:3.0" && parts[0] != "CVSS:3.1") {
		return 0, fmt.Errorf("cvss: %q is no CVSS v3 vector", vector)
	}
	m := map[string]float64{}
	val := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("cvss: malformed metric %q", p)
		}
		w, base := cvss3Weights[k]
		if !base {
			continue
		}
		x, ok := w[v]
		if !ok {
			return 0, fmt.Errorf("cvss: %s has no value %q", k, v)
		}
		if _, dup := val[k]; dup {
			return 0, fmt.Errorf("cvss: %s given twice", k)
		}
		m[k], val[k] = x, v
	}
	for k := range cvss3Weights {
		if _, ok := val[k]; !ok {
			return 0, fmt.Errorf("cvss: base metric %s missing", k)
		}
	}
	changed := val["S"] == "C"
	pr := m["PR"]
	if changed {
		switch val["PR"] {
		case "L":
			pr = 0.68
		case "H":
			pr = 0.5
		}
	}
	iss := 1 - (1-m["C"])*(1-m["I"])*(1-m["A"])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, nil
	}
	exploit := 8.22 * m["AV"] * m["AC"] * pr * m["UI"]
	if changed {
		return roundup(math.Min(1.08*(impact+exploit), 10)), nil
	}
	return roundup(math.Min(impact+exploit, 10)), nil
}

// roundup is CVSS v3.1's Roundup: the smallest number with one decimal
// at or above x, computed on integers so that 4.000000001 stays 4.0.
func roundup(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}
