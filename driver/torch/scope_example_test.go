package torch_test

import (
	"errors"
	"fmt"

	"github.com/dcwp-go/dcwp/driver/torch"
)

// A Scope owns what its ops make and frees it on Close; Keep hands one result to the
// caller. Errors are sticky: after the first failing op the others do nothing, and Err
// says what failed.
func ExampleScope() {
	s := torch.NewScope()
	defer s.Close()
	x := s.FromFloat32([]float32{1, -2, 3, -4}, []int64{2, 2}, torch.CPUDevice)
	w := s.FromFloat32([]float32{1, 0, 0, 1}, []int64{2, 2}, torch.CPUDevice)
	y := s.Relu(s.Linear(x, w, nil))
	sum := s.Keep(s.Sum(y)) // outlives s: the caller closes it
	defer sum.Close()
	fmt.Println(s.Float32s(y), s.Item(sum), s.Err())

	bad := s.Matmul(x, s.Ones([]int64{3}, torch.Float32, torch.CPUDevice)) // shapes do not fit
	after := s.Relu(bad)
	var te *torch.TorchError
	fmt.Println(bad == nil, after == nil, errors.As(s.Err(), &te), te.Op)
	// Output:
	// [1 0 3 0] 4 <nil>
	// true true true matmul
}
