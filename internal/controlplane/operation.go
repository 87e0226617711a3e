package controlplane

import "net/http"

type opKey struct{ method, path string }

// operations maps each route's method and path to its operation.
var operations = func() map[opKey]string {
	m := map[opKey]string{}
	for _, rt := range routes() {
		m[opKey{rt.method, rt.path}] = rt.op
		if rt.method == http.MethodGet {
			m[opKey{http.MethodHead, rt.path}] = rt.op
		}
	}
	return m
}()

// Operation names the model operation a request calls, "" when none
// matches: what the server's per-operation rate limits count.
func Operation(r *http.Request) string { return operations[opKey{r.Method, r.URL.Path}] }

// Operations lists the model's operation names.
func Operations() []string {
	var ops []string
	for _, rt := range routes() {
		ops = append(ops, rt.op)
	}
	return ops
}
