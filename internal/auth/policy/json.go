package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jnode is a decoded JSON value that, unlike map[string]any, keeps member
// order (so the first problem in a document is the one reported) and lets
// the reader reject duplicate keys, which encoding/json silently merges.
type jnode struct {
	kind jkind
	text string   // string value, number literal as written, or "true"/"false"
	keys []string // object member names, parallel to vals
	vals []*jnode // object member values or array elements
}

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// maxDepth bounds nesting; real policies never exceed five levels, and the
// bound keeps hostile documents from driving deep recursion.
const maxDepth = 32

// jsonError is a syntax problem with the byte offset where it was noticed.
type jsonError struct {
	msg string
	off int64
}

func (e *jsonError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// decodeJSON reads exactly one JSON value from doc.
func decodeJSON(doc string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	n, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &jsonError{msg: "unexpected data after the top-level value", off: dec.InputOffset()}
	}
	return n, nil
}

func readValue(dec *json.Decoder, depth int) (*jnode, error) {
	if depth > maxDepth {
		return nil, &jsonError{msg: "nesting too deep", off: dec.InputOffset()}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, tokenError(dec, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return readObject(dec, depth)
		case '[':
			return readArray(dec, depth)
		}
		return nil, &jsonError{msg: fmt.Sprintf("unexpected %q", rune(t)), off: dec.InputOffset()}
	case string:
		return &jnode{kind: jString, text: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, text: t.String()}, nil
	case bool:
		if t {
			return &jnode{kind: jBool, text: "true"}, nil
		}
		return &jnode{kind: jBool, text: "false"}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, &jsonError{msg: "unexpected token", off: dec.InputOffset()}
}

func readObject(dec *json.Decoder, depth int) (*jnode, error) {
	n := &jnode{kind: jObject}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, tokenError(dec, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, &jsonError{msg: "object key must be a string", off: dec.InputOffset()}
		}
		for _, k := range n.keys {
			if k == key {
				return nil, &jsonError{msg: fmt.Sprintf("duplicate key %q", key), off: dec.InputOffset()}
			}
		}
		v, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, tokenError(dec, err)
	}
	return n, nil
}

func readArray(dec *json.Decoder, depth int) (*jnode, error) {
	n := &jnode{kind: jArray}
	for dec.More() {
		v, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, tokenError(dec, err)
	}
	return n, nil
}

func tokenError(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &jsonError{msg: se.Error(), off: se.Offset}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &jsonError{msg: "unexpected end of JSON input", off: dec.InputOffset()}
	}
	return &jsonError{msg: err.Error(), off: dec.InputOffset()}
}

// policySize counts a document's characters the way IAM's quotas do:
// whitespace is ignored, except inside strings where it is content.
func policySize(doc string) int {
	n, inString, escaped := 0, false, false
	for _, r := range doc {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			inString = r == '"'
		}
	}
	return n
}
