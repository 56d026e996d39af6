//go:build !linux

package dataset

// defaultMaxBytes is a fixed limit where the machine's memory is not looked up.
func defaultMaxBytes() (int64, string) {
	return fallbackMaxBytes, "a fixed limit: this machine's memory is unknown"
}
