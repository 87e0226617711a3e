package console

import (
	"context"
	"net/url"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/rules/ruleops"
)

// What the supply-chain gate withholds, on the package page (issue 17): the
// versions of the package stored in the repository or its upstreams that
// the rules or the imported advisories refuse, each with its state as the
// coffer API's GET /coffer/v1/withheld names it ("withheld", or
// "quarantined" when an advisory marks it malicious), the reason, the
// deciding rule, the advisory and, for a cooldown, when the version becomes
// available. It is authorized as that API is, codeartifact:ListPackageVersions
// on the package, which the page's versions table asks already.

// osvURL is where an advisory id is looked up.
const osvURL = "https://osv.dev/vulnerability/"

// States of a withheld version, as the coffer API names them.
const (
	stateWithheld    = "withheld"
	stateQuarantined = "quarantined"
)

// withheldPanel is the package page's "Withheld by supply-chain rules"
// section.
type withheldPanel struct {
	Rows []withheldRow
	// Error says the gate could not be read (the rest of the page is shown).
	Error string
	// byVersion is each row's state by version, for the versions stored in
	// the page's repository itself (those its versions table lists).
	byVersion map[string]string
}

// withheldRow is one version the gate withholds.
type withheldRow struct {
	Version string
	URL     string // the version's page in the repository that stores it; "" when none does
	// Repository stores the version: the page's repository or an upstream.
	Repository, Status string
	State              string // stateWithheld or stateQuarantined
	Reason             string
	// Rule is the deciding rule's id, "" when an advisory alone decided
	// (a malicious version); RuleURL its row on the rules page, "" when the
	// principal may not list the domain's rules.
	Rule, RuleURL         string
	Advisory, AdvisoryURL string
	AvailableAt           stamp // when a cooldown ends; zero otherwise
}

// Quarantined reports whether an advisory marks the version malicious.
func (w withheldRow) Quarantined() bool { return w.State == stateQuarantined }

// withheld lists what the gate withholds of the package ref (stored
// coordinates); the caller has authorized codeartifact:ListPackageVersions
// on it. It returns nil when nothing is withheld.
func (c *Console) withheld(ctx context.Context, ref artifact.PackageRef) (*withheldPanel, error) {
	refused, err := c.svc.RefusedVersions(ctx, ref)
	if fault.KindOf(err) == fault.KindUnavailable {
		c.log.Error("console: withheld versions", "domain", ref.Name, "repository", ref.Repository, "package", ref.Package, "err", err)
		return &withheldPanel{Error: fault.As(err).Message}, nil
	} else if err != nil {
		return nil, err
	}
	if len(refused) == 0 {
		return nil, nil
	}
	wp := &withheldPanel{byVersion: map[string]string{}}
	rulesLink, asked := false, false
	for _, v := range refused {
		row := withheldRowOf(v.Decision)
		row.Version, row.Repository, row.Status = v.Version, v.Repository, v.Status
		if v.Repository != "" {
			row.URL = versionURL(ref.Name, v.Repository, ref.Format, ref.Namespace, ref.Package, v.Version)
		}
		if row.Rule != "" {
			if !asked {
				rulesLink, asked = c.allowed(ctx, ruleops.ActionList, c.rules.Resource("", ref.Name, "")), true
			}
			if rulesLink {
				row.RuleURL = withQuery(rulesURL(ref.Name), url.Values{"rule": {row.Rule}}) + "#rule-" + row.Rule
			}
		}
		if v.Repository == ref.Repository {
			wp.byVersion[v.Version] = row.State
		}
		wp.Rows = append(wp.Rows, row)
	}
	return wp, nil
}

// withheldRowOf is what a decision says of a version, as the coffer API's
// withheldOf reads it.
func withheldRowOf(d rules.Decision) withheldRow {
	row := withheldRow{State: stateWithheld, Reason: d.Reason, Rule: d.Rule, Advisory: d.Advisory, AvailableAt: stampOf(d.AvailableAt)}
	if d.Malicious() {
		row.State = stateQuarantined
	}
	if row.Rule == row.Advisory {
		// An advisory marking a version malicious decides by itself (the
		// decision names it as the rule too): no rule of the rules page.
		row.Rule = ""
	}
	if row.Advisory != "" {
		row.AdvisoryURL = osvURL + url.PathEscape(row.Advisory)
	}
	return row
}

// state is the state of a version of the versions table: "" when the gate
// offers it.
func (wp *withheldPanel) state(version string) string {
	if wp == nil {
		return ""
	}
	return wp.byVersion[version]
}
