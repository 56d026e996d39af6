//go:build ignore

// gen_seeds writes the checked-in seeds of the onnx package's fuzz targets: small exports
// of every architecture and format (small inputs, heavy pruning, so they are kilobytes)
// and a selection of Debian's libonnx-testdata models (apt install libonnx-testdata).
// Run from the repository root: go run onnx/testdata/gen_seeds.go
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
)

const debian = "/usr/share/libonnx-testdata/data"

// Debian models: the ops dcwp-go exports, tensor attributes, sparse and integer tensors,
// subgraphs, strings, float16, sequences (things the reader must refuse or skip cleanly).
var debianModels = []string{
	"node/test_gemm_beta", "node/test_conv_with_strides_padding", "node/test_batchnorm_epsilon",
	"node/test_maxpool_2d_pads", "node/test_flatten_axis1", "node/test_relu", "node/test_globalaveragepool",
	"node/test_gather_2d_indices", "node/test_reshape_negative_dim", "node/test_matmul_2d", "node/test_add_bcast",
	"node/test_constant", "node/test_constantofshape_int_zeros", "node/test_constant_pad",
	"node/test_if", "node/test_loop11", "node/test_scan9_sum", "node/test_cast_FLOAT_to_STRING",
	"node/test_cast_FLOAT16_to_FLOAT", "node/test_sequence_insert_at_back", "node/test_optional_get_element",
	"node/test_qlinearmatmul_2D", "node/test_convinteger_with_padding", "node/test_dequantizelinear",
	"node/test_softmax_example", "node/test_averagepool_2d_pads", "node/test_gemm_default_no_bias",
	"pytorch-converted/test_Conv2d", "pytorch-converted/test_BatchNorm2d_eval", "pytorch-converted/test_Linear",
	"pytorch-converted/test_Embedding_sparse", "pytorch-converted/test_MaxPool2d",
	"pytorch-operator/test_operator_index", "pytorch-operator/test_operator_params",
	"simple/test_single_relu_model", "simple/test_sequence_model1", "simple/test_expand_shape_model1",
	"simple/test_strnorm_model_monday_casesensintive_lower", "simple/test_gradient_of_add",
}

// writeCorpus writes one Go fuzz corpus file ("go test fuzz v1") holding the given []byte values.
func writeCorpus(target, name string, vals ...[]byte) {
	dir := filepath.Join("onnx", "testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	s := "go test fuzz v1\n"
	for _, v := range vals {
		s += "[]byte(" + strconv.Quote(string(v)) + ")\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
		log.Fatal(err)
	}
}

func exports() map[string][]byte {
	out := map[string][]byte{}
	small := arch.Options{Classes: 3, Input: [3]int{1, 4, 4}}
	for _, a := range []*arch.Arch{arch.MLP(small), arch.CNN(small), arch.ResNet18(small)} {
		s := exportfixture.Spec{Model: a.Name, Seed: 7, Keep: 0.05, DeadRows: 0.9, DeadCols: 0.5}
		if a.Name == "resnet18" {
			s.Keep, s.DeadRows = 0.002, 0.95
		}
		net := exportfixture.ForArch(a, s)
		for _, f := range exporter.Formats() {
			if (a.Name != "mlp" && f == exporter.Dense) || (a.Name == "resnet18" && f == exporter.Compact) {
				continue // megabytes: CNN dense, ResNet-18 dense and compact (fuzz_test.go builds what it can)
			}
			m, _, err := exporter.ExportNetwork(s.Config(), net, exporter.Options{Format: f, Source: "fuzz-seed"})
			if err != nil {
				log.Fatalf("%s %s: %v", a.Name, f, err)
			}
			b, err := onnx.Marshal(m)
			if err != nil {
				log.Fatal(err)
			}
			out[a.Name+"-"+string(f)] = b
		}
	}
	return out
}

func main() {
	ex := exports()
	for name, b := range ex {
		writeCorpus("FuzzParse", "export-"+name, b)
		fmt.Printf("export-%s %d bytes\n", name, len(b))
	}
	var deb [][]byte
	for _, d := range debianModels {
		b, err := os.ReadFile(filepath.Join(debian, d, "model.onnx"))
		if err != nil {
			log.Fatal(err)
		}
		writeCorpus("FuzzParse", "debian-"+filepath.Base(d), b)
		deb = append(deb, b)
	}
	for _, a := range []string{"mlp", "cnn"} {
		writeCorpus("FuzzDiff", "export-"+a+"-sparse-compact", ex[a+"-sparse"], ex[a+"-compact"])
	}
	writeCorpus("FuzzDiff", "export-mlp-resnet18-sparse", ex["mlp-sparse"], ex["resnet18-sparse"])
	writeCorpus("FuzzDiff", "export-mlp-dense-sparse", ex["mlp-dense"], ex["mlp-sparse"])
	for i := 0; i+1 < len(deb); i += 6 {
		writeCorpus("FuzzDiff", "debian-"+filepath.Base(debianModels[i])+"-"+filepath.Base(debianModels[i+1]), deb[i], deb[i+1])
	}
}
