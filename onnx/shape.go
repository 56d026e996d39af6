package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// Shape is a value's shape as the model declares it; nil when unknown.
type Shape []Dim

// String prints [N 3 28 28]; "?" when unknown.
func (s Shape) String() string {
	if s == nil {
		return "?"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// MarshalText writes the String form, so JSON shows "[N 3 28 28]".
func (s Shape) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the String form back.
func (s *Shape) UnmarshalText(b []byte) error {
	str := string(b)
	if str == "?" {
		*s = nil
		return nil
	}
	if !strings.HasPrefix(str, "[") || !strings.HasSuffix(str, "]") {
		return fmt.Errorf("bad shape %q", str)
	}
	out := Shape{}
	for _, f := range strings.Fields(str[1 : len(str)-1]) {
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, Dim{Value: v})
		} else {
			out = append(out, Dim{Param: f})
		}
	}
	*s = out
	return nil
}

func shapeOf(v *onnxpb.ValueInfoProto) (string, Shape) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return "", nil
	}
	typ := onnxpb.TensorProto_DataType(tt.GetElemType()).String()
	if tt.Shape == nil {
		return typ, nil
	}
	s := Shape{}
	for _, d := range tt.Shape.Dim {
		if p := d.GetDimParam(); p != "" {
			s = append(s, Dim{Param: p})
		} else {
			s = append(s, Dim{Value: d.GetDimValue()})
		}
	}
	return typ, s
}

func fixedShape(dims []int64) Shape {
	s := Shape{}
	for _, d := range dims {
		s = append(s, Dim{Value: d})
	}
	return s
}
