package maven

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"coffer/internal/store"
)

// MaxPOMSize bounds a POM that is parsed (larger ones are stored, not read).
const MaxPOMSize = 4 << 20

// POM is what coffer reads from a project object model.
type POM struct {
	GroupID     string
	ArtifactID  string
	Version     string
	Packaging   string
	Name        string
	Description string
	URL         string
	Parent      *Parent
	Licenses    []License
	SCMURL      string
	// Dependencies are the direct dependencies (not dependencyManagement),
	// with properties expanded and versions completed from the POM's own
	// dependencyManagement where missing.
	Dependencies []Dependency
}

// Parent is the <parent> element.
type Parent struct {
	GroupID    string
	ArtifactID string
	Version    string
}

// License is one <license>.
type License struct {
	Name string
	URL  string
}

// Dependency is one <dependency>.
type Dependency struct {
	GroupID    string
	ArtifactID string
	Version    string
	Type       string
	Classifier string
	Scope      string // as written; "" means compile
	Optional   bool
}

type xmlDependency struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Type       string `xml:"type"`
	Classifier string `xml:"classifier"`
	Scope      string `xml:"scope"`
	Optional   string `xml:"optional"`
}

type xmlPOM struct {
	XMLName     xml.Name `xml:"project"`
	GroupID     string   `xml:"groupId"`
	ArtifactID  string   `xml:"artifactId"`
	Version     string   `xml:"version"`
	Packaging   string   `xml:"packaging"`
	Name        string   `xml:"name"`
	Description string   `xml:"description"`
	URL         string   `xml:"url"`
	Parent      *struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
	} `xml:"parent"`
	Licenses []struct {
		Name string `xml:"name"`
		URL  string `xml:"url"`
	} `xml:"licenses>license"`
	SCM struct {
		URL string `xml:"url"`
	} `xml:"scm"`
	Properties   properties      `xml:"properties"`
	Dependencies []xmlDependency `xml:"dependencies>dependency"`
	Managed      []xmlDependency `xml:"dependencyManagement>dependencies>dependency"`
}

// properties collects the children of <properties> by element name.
type properties map[string]string

func (p *properties) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if *p == nil {
		*p = properties{}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var v string
			if err := d.DecodeElement(&v, &t); err != nil {
				return err
			}
			(*p)[t.Name.Local] = strings.TrimSpace(v)
		case xml.EndElement:
			return nil
		}
	}
}

// ParsePOM parses a POM. Property references (${...}) in coordinates and
// dependency versions are expanded from <properties>, project.* and
// parent.*; those it cannot expand stay as written.
func ParsePOM(b []byte) (*POM, error) {
	if len(b) > MaxPOMSize {
		return nil, fmt.Errorf("POM is larger than %d bytes", MaxPOMSize)
	}
	var x xmlPOM
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false // POMs in the wild carry HTML entities in descriptions
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charsetReader
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("POM: %w", err)
	}
	trim := strings.TrimSpace
	p := &POM{GroupID: trim(x.GroupID), ArtifactID: trim(x.ArtifactID), Version: trim(x.Version), Packaging: trim(x.Packaging),
		Name: trim(x.Name), Description: collapseSpace(x.Description), URL: trim(x.URL), SCMURL: trim(x.SCM.URL)}
	if x.Parent != nil {
		p.Parent = &Parent{GroupID: trim(x.Parent.GroupID), ArtifactID: trim(x.Parent.ArtifactID), Version: trim(x.Parent.Version)}
		if p.GroupID == "" {
			p.GroupID = p.Parent.GroupID
		}
		if p.Version == "" {
			p.Version = p.Parent.Version
		}
	}
	if p.Packaging == "" {
		p.Packaging = "jar"
	}
	props := map[string]string{}
	for k, v := range x.Properties {
		props[k] = v
	}
	for _, prefix := range []string{"project.", "pom.", ""} {
		props[prefix+"groupId"] = p.GroupID
		props[prefix+"artifactId"] = p.ArtifactID
		props[prefix+"version"] = p.Version
	}
	if p.Parent != nil {
		for _, prefix := range []string{"project.parent.", "parent."} {
			props[prefix+"groupId"] = p.Parent.GroupID
			props[prefix+"artifactId"] = p.Parent.ArtifactID
			props[prefix+"version"] = p.Parent.Version
		}
	}
	expand := func(s string) string { return expandProperties(trim(s), props) }
	p.GroupID, p.Version = expand(p.GroupID), expand(p.Version)
	p.URL, p.SCMURL = expand(p.URL), expand(p.SCMURL)
	if p.Parent != nil {
		p.Parent.Version = expand(p.Parent.Version)
	}
	for _, l := range x.Licenses {
		if n, u := trim(l.Name), trim(l.URL); n != "" || u != "" {
			p.Licenses = append(p.Licenses, License{Name: n, URL: u})
		}
	}
	managed := map[string]string{}
	for _, m := range x.Managed {
		managed[expand(m.GroupID)+":"+expand(m.ArtifactID)] = expand(m.Version)
	}
	for _, xd := range x.Dependencies {
		dep := Dependency{GroupID: expand(xd.GroupID), ArtifactID: expand(xd.ArtifactID), Version: expand(xd.Version),
			Type: expand(xd.Type), Classifier: expand(xd.Classifier), Scope: expand(xd.Scope),
			Optional: strings.EqualFold(expand(xd.Optional), "true")}
		if dep.Version == "" {
			dep.Version = managed[dep.GroupID+":"+dep.ArtifactID]
		}
		if dep.GroupID == "" || dep.ArtifactID == "" {
			continue
		}
		p.Dependencies = append(p.Dependencies, dep)
	}
	return p, nil
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// expandProperties replaces ${name} references found in props, repeatedly
// (properties may refer to properties), a bounded number of times.
func expandProperties(s string, props map[string]string) string {
	for range 10 {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		changed := false
		var b strings.Builder
		rest := s
		for {
			i := strings.Index(rest, "${")
			if i < 0 {
				b.WriteString(rest)
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				b.WriteString(rest)
				break
			}
			name := rest[i+2 : i+j]
			b.WriteString(rest[:i])
			if v, ok := props[name]; ok {
				b.WriteString(v)
				changed = true
			} else {
				b.WriteString(rest[i : i+j+1])
			}
			rest = rest[i+j+1:]
			if b.Len() > 4096 {
				return s
			}
		}
		if !changed {
			return s
		}
		s = b.String()
	}
	return s
}

// DependencyTypeParent is the dependencyType of a POM's <parent>.
const DependencyTypeParent = "parent"

// StoreDependencies returns the dependencies as CodeArtifact lists them:
// the parent POM (dependencyType "parent") then each dependency with its
// scope as the dependencyType (compile when none is written).
func (p *POM) StoreDependencies() []store.Dependency {
	var out []store.Dependency
	if p.Parent != nil && p.Parent.GroupID != "" && p.Parent.ArtifactID != "" {
		out = append(out, store.Dependency{Namespace: p.Parent.GroupID, Package: p.Parent.ArtifactID,
			DependencyType: DependencyTypeParent, VersionRequirement: p.Parent.Version})
	}
	for _, d := range p.Dependencies {
		scope := d.Scope
		if scope == "" {
			scope = "compile"
		}
		out = append(out, store.Dependency{Namespace: d.GroupID, Package: d.ArtifactID, DependencyType: scope, VersionRequirement: d.Version})
	}
	return out
}

// Apply copies the POM's descriptive metadata and dependencies into a
// package version record.
func (p *POM) Apply(v *store.Version) {
	if p.ArtifactID != "" {
		v.DisplayName = p.ArtifactID
	}
	v.Summary = p.Description
	if v.Summary == "" {
		v.Summary = p.Name
	}
	v.HomePage = p.URL
	v.SourceCodeRepository = p.SCMURL
	v.Licenses = nil
	for _, l := range p.Licenses {
		v.Licenses = append(v.Licenses, store.License{Name: l.Name, URL: l.URL})
	}
	v.Dependencies = p.StoreDependencies()
}
