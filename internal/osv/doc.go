// Package osv reads OSV records (the Open Source Vulnerability schema that
// osv.dev and the malicious-packages feed publish) and answers whether a
// package version is affected by one.
//
// It is pure logic: no storage, no HTTP. Version order is each ecosystem's
// own and is supplied by the caller as an Ecosystems table (package
// osv/ecosystems builds it from the format packages), so that this package
// stays below every layer that may consult it.
package osv
