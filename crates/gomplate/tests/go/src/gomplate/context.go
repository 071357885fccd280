// Package gomplate mirrors the two things gomplate 3.11 hands Go's
// text/template that change what a template sees: dot is a pointer to its
// context type (so `printf "%T" .` is `*gomplate.tmplctx`), and `slice` is
// coll.Slice, which replaces Go's builtin of that name.
package gomplate

type tmplctx map[string]interface{}

// NewContext returns dot as gomplate passes it: a pointer to the context map.
func NewContext(values map[string]interface{}) interface{} {
	ctx := tmplctx{"Values": values}
	return &ctx
}

// Slice is gomplate's coll.Slice: its arguments as a list.
func Slice(args ...interface{}) []interface{} {
	return args
}
