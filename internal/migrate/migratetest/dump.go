// Package migratetest holds what the tests of a migration share: a canonical
// dump of a metadata store, which two deployments must produce identically
// when one is a migrated copy of the other.
package migratetest

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// Dump lists everything the store holds, one line a record, in a fixed
// order, with the generated ids left out (parents are named by their keys)
// and times as Unix nanoseconds. Records are reached the way package
// migrate reaches them; tags under the ARNs of region.
func Dump(ctx context.Context, meta store.Store, region string) ([]string, error) {
	d := &dumper{arns: artifact.New(artifact.Config{Region: region}, nil, nil, nil)}
	err := meta.Read(ctx, func(tx store.Tx) error { d.tx = tx; return d.all() })
	return d.lines, err
}

type dumper struct {
	tx    store.Tx
	arns  *artifact.Service
	lines []string
}

func (d *dumper) add(kind string, v any) { d.lines = append(d.lines, kind+" "+Canon(v)) }

func (d *dumper) all() error {
	settings, err := d.tx.ListSettings()
	if err != nil {
		return err
	}
	for _, s := range settings {
		d.add("setting", s)
	}
	if err := d.iam(); err != nil {
		return err
	}
	domains, err := d.tx.ListDomains(store.Page{})
	if err != nil {
		return err
	}
	for _, dom := range domains {
		if err := d.domain(&dom); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) iam() error {
	policies, err := d.tx.ListPolicies("", store.Page{})
	if err != nil {
		return err
	}
	for _, p := range policies {
		d.add("policy", p)
		vs, err := d.tx.ListPolicyVersions(p.ARN)
		if err != nil {
			return err
		}
		for _, v := range vs {
			d.add("  policy-version", v)
		}
		n, err := d.tx.PolicyAttachmentCount(p.ARN)
		if err != nil {
			return err
		}
		d.add("  attachment-count", n)
	}
	var principals []string
	users, err := d.tx.ListUsers("", store.Page{})
	if err != nil {
		return err
	}
	for _, u := range users {
		d.add("user", u)
		principals = append(principals, u.ARN)
	}
	groups, err := d.tx.ListGroups("", store.Page{})
	if err != nil {
		return err
	}
	for _, g := range groups {
		d.add("group", g)
		members, err := d.tx.ListGroupMembers(g.Name)
		if err != nil {
			return err
		}
		for _, u := range members {
			d.add("  member", u.Name)
		}
		principals = append(principals, g.ARN)
	}
	roles, err := d.tx.ListRoles("", store.Page{})
	if err != nil {
		return err
	}
	for _, r := range roles {
		d.add("role", r)
		principals = append(principals, r.ARN)
	}
	for _, arn := range principals {
		attached, err := d.tx.ListAttachedPolicies(arn)
		if err != nil {
			return err
		}
		for _, p := range attached {
			d.add("attached", arn+" "+p.ARN)
		}
		inline, err := d.tx.ListInlinePolicies(arn)
		if err != nil {
			return err
		}
		for _, p := range inline {
			d.add("inline", p)
		}
	}
	keyOwners := principals[:len(users)]
	if account, err := d.tx.GetSetting("account-id"); err == nil {
		keyOwners = append([]string{"arn:aws:iam::" + account + ":root"}, keyOwners...)
	}
	for _, arn := range keyOwners {
		keys, err := d.tx.ListAccessKeys(arn)
		if err != nil {
			return err
		}
		for _, k := range keys {
			d.add("access-key", k)
		}
	}
	return nil
}

func (d *dumper) domain(dom *store.Domain) error {
	d.add("domain", *dom)
	repos, bytes, assets, err := d.tx.DomainUsage(dom.ID)
	if err != nil {
		return err
	}
	d.add("  usage", fmt.Sprintf("repositories=%d bytes=%d assets=%d", repos, bytes, assets))
	if err := d.tags(d.arns.DomainARN(dom.Owner, dom.Name)); err != nil {
		return err
	}
	rs, err := d.tx.ListRepositories(store.RepositoryFilter{DomainID: dom.ID}, store.Page{})
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.add("  repository", r)
		if err := d.tags(d.arns.RepositoryARN(dom.Owner, dom.Name, r.Name)); err != nil {
			return err
		}
		if err := d.packages(r.ID); err != nil {
			return err
		}
	}
	groups, err := d.tx.ListPackageGroups(dom.ID, "", store.Page{})
	if err != nil {
		return err
	}
	for _, g := range groups {
		d.add("  package-group", g)
		lists, err := d.tx.CountAllowedRepositories(g.ID)
		if err != nil {
			return err
		}
		for _, typ := range slices.Sorted(maps.Keys(lists)) {
			names, err := d.tx.ListAllowedRepositories(g.ID, typ, store.Page{})
			if err != nil {
				return err
			}
			d.add("    allowed", typ+" "+strings.Join(names, ","))
		}
		if err := d.tags(d.arns.PackageGroupARN(dom.Owner, dom.Name, g.Pattern)); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) packages(repo int64) error {
	pkgs, err := d.tx.ListPackages(store.PackageFilter{RepositoryID: repo}, store.Page{})
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		d.add("    package", p)
		vs, err := d.tx.ListVersions(store.VersionFilter{PackageID: p.ID}, store.Page{})
		if err != nil {
			return err
		}
		for _, v := range vs {
			d.add("      version", v)
			as, err := d.tx.ListAssets(v.ID, store.Page{})
			if err != nil {
				return err
			}
			for _, a := range as {
				d.add("        asset", a)
			}
		}
	}
	return nil
}

func (d *dumper) tags(arn string) error {
	tags, err := d.tx.ListTags(arn)
	if err != nil {
		return err
	}
	for _, t := range tags {
		d.add("  tag", arn+" "+Canon(t))
	}
	return nil
}

// generated are the int64 fields that hold generated ids (or, ChangeSeq, a
// driver-maintained counter): they differ between stores.
var generated = map[string]bool{"ID": true, "DomainID": true, "RepositoryID": true, "PackageID": true,
	"VersionID": true, "ChangeSeq": true}

// Canon formats v canonically: struct fields by name without the generated
// ids, times as Unix nanoseconds (0 for the zero time, whatever the
// location), nil and empty slices and maps alike, maps by sorted key.
func Canon(v any) string {
	var b strings.Builder
	canon(&b, reflect.ValueOf(v))
	return b.String()
}

var timeType = reflect.TypeFor[time.Time]()

func canon(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	if v.Type() == timeType {
		fmt.Fprintf(b, "%d", store.TimeNanos(v.Interface().(time.Time)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		canon(b, v.Elem())
	case reflect.Struct:
		b.WriteString("{")
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.Int64 && generated[f.Name] {
				continue
			}
			b.WriteString(f.Name + ":")
			canon(b, v.Field(i))
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b.WriteString("0x" + hex.EncodeToString(v.Bytes()))
			return
		}
		b.WriteString("[")
		for i := range v.Len() {
			canon(b, v.Index(i))
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Map:
		b.WriteString("map[")
		keys := v.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
		for _, k := range keys {
			fmt.Fprintf(b, "%q=", fmt.Sprint(k))
			canon(b, v.MapIndex(k))
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		fmt.Fprint(b, v.Interface())
	}
}
