package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcwp-go/dcwp/internal/exit"
)

// Devices is the device of each job slot of a local launch: for "cuda", one visible GPU
// per slot, round-robin (cuda:0, cuda:1, …); any other device as it is. The GPUs are
// counted without libtorch: CUDA_VISIBLE_DEVICES when set (CUDA numbers those from 0),
// else the driver's /proc/driver/nvidia/gpus.
func Devices(device string) ([]string, error) {
	if device != "cuda" {
		return []string{device}, nil
	}
	n := 0
	if v, ok := os.LookupEnv("CUDA_VISIBLE_DEVICES"); ok {
		for _, d := range strings.Split(v, ",") {
			if strings.TrimSpace(d) != "" {
				n++
			}
		}
	} else {
		gpus, _ := filepath.Glob("/proc/driver/nvidia/gpus/*")
		n = len(gpus)
	}
	if n == 0 {
		return nil, exit.Usagef("--device cuda: no GPU is visible (CUDA_VISIBLE_DEVICES, /proc/driver/nvidia/gpus)")
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cuda:%d", i)
	}
	return out, nil
}
