package pickle

import (
	"fmt"
	"reflect"
)

// SyntaxError describes malformed pickle data (or data beyond the decoder's
// limits).
type SyntaxError struct {
	Offset int64  // byte offset of the opcode in the input
	Op     byte   // the opcode (0 when the error is not about one opcode)
	Msg    string // description
}

func (e *SyntaxError) Error() string {
	if name := opName(e.Op); name != "" {
		return fmt.Sprintf("pickle: %s at offset %d (opcode %s)", e.Msg, e.Offset, name)
	}
	return fmt.Sprintf("pickle: %s at offset %d", e.Msg, e.Offset)
}

// UnmarshalTypeError describes a pickle value that was not appropriate for a
// value of a specific Go type.
type UnmarshalTypeError struct {
	Value  string       // description of the Python value: "str", "int 300", "list"
	Type   reflect.Type // type of Go value it could not be assigned to
	Offset int64        // Unmarshal/Decode: input offset just past the pickle holding the value (0 from Convert)
	Field  string       // the full path of the struct field, when there is one
}

func (e *UnmarshalTypeError) Error() string {
	if e.Field != "" {
		return "pickle: cannot unmarshal " + e.Value + " into Go struct field " + e.Field + " of type " + typeString(e.Type)
	}
	return "pickle: cannot unmarshal " + e.Value + " into Go value of type " + typeString(e.Type)
}

func typeString(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	return t.String()
}

// UnsupportedTypeError is returned by the encoder for a Go value it cannot
// encode.
type UnsupportedTypeError struct {
	Type reflect.Type
}

func (e *UnsupportedTypeError) Error() string {
	return "pickle: unsupported type: " + typeString(e.Type)
}

// InvalidUnmarshalError describes an invalid argument passed to Unmarshal or
// Decode (not a non-nil pointer).
type InvalidUnmarshalError struct {
	Type reflect.Type
}

func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "pickle: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "pickle: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "pickle: Unmarshal(nil " + e.Type.String() + ")"
}
