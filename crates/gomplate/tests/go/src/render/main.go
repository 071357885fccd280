// Command render is the reference side of the engine's checks against Go
// (crates/gomplate/tests/differential, tests/cases.rs): Go's own text/template, fmt and
// yaml.v3, set up the way gomplate 3.11 runs a deployKF generator.
//
// Input on stdin, repeated: a line "D O T" (byte lengths), then the defaults
// YAML (D bytes), the override YAML (O bytes) and the template (T bytes).
// Output per case: "ok N\n" or "err N\n", then N bytes (the rendered text or
// the error message).
//
// Values are decoded with yaml.v3, merged as the deployKF CLI's `merge:`
// datasource does (maps merge, other values replace, the override wins), and
// the merge goes through yaml.v3 once more (encoded with indent 2, decoded).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"text/template"

	"gomplate"

	"gopkg.in/yaml.v3"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		var d, o, t int
		if _, err := fmt.Fscanf(in, "%d %d %d\n", &d, &o, &t); err != nil {
			if err == io.EOF {
				return
			}
			fmt.Fprintln(os.Stderr, "render: bad case header:", err)
			os.Exit(2)
		}
		defaults, override, text := read(in, d), read(in, o), read(in, t)
		result, err := render(defaults, override, text)
		if err != nil {
			fmt.Fprintf(out, "err %d\n%s", len(err.Error()), err.Error())
		} else {
			fmt.Fprintf(out, "ok %d\n%s", len(result), result)
		}
	}
}

func read(in *bufio.Reader, n int) []byte {
	buf := make([]byte, n)
	if _, err := io.ReadFull(in, buf); err != nil {
		fmt.Fprintln(os.Stderr, "render: short case:", err)
		os.Exit(2)
	}
	return buf
}

func render(defaults, override, text []byte) (string, error) {
	lower, err := decodeMap(defaults)
	if err != nil {
		return "", err
	}
	upper, err := decodeMap(override)
	if err != nil {
		return "", err
	}
	var encoded bytes.Buffer
	enc := yaml.NewEncoder(&encoded)
	enc.SetIndent(2)
	if err := enc.Encode(merge(lower, upper)); err != nil {
		return "", err
	}
	values, err := decodeMap(encoded.Bytes())
	if err != nil {
		return "", err
	}
	tmpl, err := template.New("t").Delims("{{<", ">}}").Option("missingkey=error").
		Funcs(template.FuncMap{"slice": gomplate.Slice}).Parse(string(text))
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, gomplate.NewContext(values)); err != nil {
		return "", err
	}
	return out.String(), nil
}

func decodeMap(text []byte) (map[string]interface{}, error) {
	var v interface{}
	if err := yaml.Unmarshal(text, &v); err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return map[string]interface{}{}, nil
	case map[string]interface{}:
		return m, nil
	}
	return nil, fmt.Errorf("the top level is a %T, not a map", v)
}

// merge returns lower with upper merged over it: maps merge recursively,
// everything else in upper replaces.
func merge(lower, upper map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(lower)+len(upper))
	for k, v := range lower {
		out[k] = v
	}
	for k, v := range upper {
		l, lok := out[k].(map[string]interface{})
		u, uok := v.(map[string]interface{})
		if lok && uok {
			out[k] = merge(l, u)
		} else {
			out[k] = v
		}
	}
	return out
}
