package torch

// DType is a tensor element type.
type DType int

// The zero DType is Float32. Values are this package's own; each binding maps them to its
// engine's.
const (
	Float32 DType = iota
	Float64
	Int64
	Bool
	Int32
	Uint8
	// BFloat16 is what bf16 autocast computes in; host copies read it as float32.
	BFloat16
	// Other is any element type the package does not name.
	Other
)

var dtypeNames = [...]string{Float32: "float32", Float64: "float64", Int64: "int64",
	Bool: "bool", Int32: "int32", Uint8: "uint8", BFloat16: "bfloat16", Other: "other"}

func (d DType) String() string {
	if d < 0 || int(d) >= len(dtypeNames) {
		return "other"
	}
	return dtypeNames[d]
}

// Size is the element size in bytes.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case BFloat16:
		return 2
	}
	return 1
}
