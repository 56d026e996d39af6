package ort

import (
	"errors"
	"fmt"
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Execution providers a session can run on.
const (
	ProviderCPU  = "cpu"
	ProviderCUDA = "cuda"
)

// Errors wrapped (with %w) by Open, besides ErrLib.
var (
	// ErrOptions: the options are invalid (an unknown provider, a thread count the runtime refuses).
	ErrOptions = errors.New("bad options")
	// ErrProvider: the requested execution provider cannot be used on this machine.
	ErrProvider = errors.New("execution provider unavailable")
	// ErrModel: the runtime cannot load the model.
	ErrModel = errors.New("bad model")
)

// Options configures a session. The zero value runs on the CPU with the runtime's default
// threads, loading the library FindLib resolves.
type Options struct {
	Provider string // ProviderCPU (default, "") or ProviderCUDA
	Lib      string // ONNX Runtime library; "" resolves it with FindLib
	Threads  int    // intra-op threads (and one inter-op thread); 0 leaves the runtime's default
	DeviceID int    // CUDA device
}

// provider is o.Provider normalised, or an ErrOptions error for an unknown one.
func (o Options) provider() (string, error) {
	p := strings.ToLower(strings.TrimSpace(o.Provider))
	switch p {
	case "":
		return ProviderCPU, nil
	case ProviderCPU, ProviderCUDA:
		return p, nil
	}
	return "", fmt.Errorf("%w: --provider %q (want cpu or cuda)", ErrOptions, o.Provider)
}

// sessionOptions makes the runtime's options for o on the library lib. The caller destroys them.
func (o Options) sessionOptions(provider, lib string) (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx runtime: session options: %w", err)
	}
	if err := o.setThreads(opts); err != nil {
		opts.Destroy()
		return nil, err
	}
	if provider == ProviderCUDA {
		if err := appendCUDA(opts, lib, o.DeviceID); err != nil {
			opts.Destroy()
			return nil, err
		}
	}
	return opts, nil
}

func (o Options) setThreads(opts *ortgo.SessionOptions) error {
	if o.Threads == 0 {
		return nil
	}
	if o.Threads < 0 {
		return fmt.Errorf("%w: --threads %d (want >= 0)", ErrOptions, o.Threads)
	}
	err := opts.SetIntraOpNumThreads(o.Threads)
	if err == nil {
		err = opts.SetInterOpNumThreads(1)
	}
	if err != nil {
		return fmt.Errorf("%w: --threads %d: %v", ErrOptions, o.Threads, err)
	}
	return nil
}
